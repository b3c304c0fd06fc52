"""One way to write each kind of row (issue 12): audit rows only through
`replenish.services.transitions`, ledger rows only through `replenish.services.ledger`.

The sources are read as Python (an AST walk), so a comment or a docstring that names a model does
not count, and every way of writing is looked for: constructing the model, `create`/`bulk_create`
(and the other writing manager methods) on its manager, `kernel.sql`'s loaders given it, and raw
SQL that inserts into or copies into its table, by name or through `_meta.db_table`.
"""

import ast
import importlib
import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kernel", "units", "replenish", "notices", "enforcement", "portal", "api", "backoffice")
PACKAGES += ("operations",)
PACKAGES += ("config",)
WRITERS = {
    "AuditEntry": {"replenish/services/transitions.py"},
    "LedgerEntry": {"replenish/services/ledger.py"},
}
TABLES = {"replenish_auditentry": "AuditEntry", "replenish_ledgerentry": "LedgerEntry"}
LOADERS = {"bulk_load", "rows_insert"}  # kernel.sql: load rows into the table or model given
MANAGER_WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "bulk_update"}
INSERT = re.compile(r"\b(?:INSERT\s+INTO|COPY)\s*$|\b(?:INSERT\s+INTO|COPY)\s+(\w+)", re.I)


def _model_named(node: ast.AST) -> str | None:
    """`AuditEntry` for `AuditEntry`, `models.AuditEntry`, `AuditEntry._meta…` and the like."""
    while isinstance(node, ast.Attribute):
        if node.attr in WRITERS:
            return node.attr
        node = node.value
    if isinstance(node, ast.Name) and node.id in WRITERS:
        return node.id
    return None


def _name_of(func: ast.Name | ast.Attribute) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr


def _table_model(value: ast.expr, names: dict) -> str | None:
    """The model whose table an interpolated value names: `AuditEntry._meta.db_table`, or a
    module constant holding its table's name."""
    model = _model_named(value)
    if model is None and isinstance(value, ast.Name):
        model = TABLES.get(names.get(value.id))
    return model


def _sql_inserts(node: ast.AST, names: dict) -> list[str]:
    """The models a string or f-string inserts rows of (INSERT INTO / COPY its table, named
    literally, through `_meta.db_table`, or through a module's constant that holds the name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [TABLES[t] for t in INSERT.findall(node.value) if t in TABLES]
    if not isinstance(node, ast.JoinedStr):
        return []
    found = []
    parts = [*node.values, None]
    for part, after in itertools.pairwise(parts):
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            continue
        for match in INSERT.finditer(part.value):
            table = match.group(1)
            if table is not None:
                model = TABLES.get(table)
            elif isinstance(after, ast.FormattedValue):
                model = _table_model(after.value, names)
            else:
                model = None
            if model is not None:
                found.append(model)
    return found


def writes_in(source: str, names: dict | None = None) -> list[tuple[int, str, str]]:
    """(line, model, how) for every place `source` writes an audit or ledger row; `names` are
    the module's globals (its constants naming tables)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            model = _model_named(func) if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute) and func.attr in WRITERS:
                model = func.attr
            if model is not None:
                found.append((node.lineno, model, "constructed"))
            elif isinstance(func, ast.Attribute) and func.attr in MANAGER_WRITES:
                model = _model_named(func.value)
                if model is not None:
                    found.append((node.lineno, model, func.attr))
            elif isinstance(func, ast.Name | ast.Attribute) and _name_of(func) in LOADERS:
                found += [
                    (node.lineno, model, _name_of(func))
                    for model in map(_model_named, node.args)
                    if model is not None
                ]
        for model in _sql_inserts(node, names or {}):
            found.append((node.lineno, model, "raw SQL insert"))
    return found


def _sources():
    """(path, source, globals) of every module of the product but its migrations."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = path.relative_to(ROOT).as_posix()
            module = name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            try:
                names = vars(importlib.import_module(module))
            except ImportError:  # a module that needs what is not installed here (wsgi, celery)
                names = {}
            yield name, path.read_text(encoding="utf-8"), names


def test_audit_and_ledger_rows_are_written_only_by_their_module():
    # given every module of the product (migrations aside)
    # when the places that write audit or ledger rows are collected
    strays = [
        f"{name}:{line}: {model} {how}"
        for name, source, names in _sources()
        for line, model, how in writes_in(source, names)
        if name not in WRITERS[model]
    ]
    # then only transitions.py writes audit rows and only ledger.py writes ledger entries
    assert strays == []


def test_their_modules_are_found_writing():
    # given the two writer modules, when they are read, then their writes are seen (the walk
    # finds what it looks for)
    sources = {name: (source, names) for name, source, names in _sources()}
    assert {m for _l, m, _h in writes_in(*sources["replenish/services/transitions.py"])} == {
        "AuditEntry"
    }
    assert {h for _l, m, h in writes_in(*sources["replenish/services/ledger.py"])} == {
        "rows_insert",
        "raw SQL insert",
    }


SQL, LEDGER = "raw SQL insert", "LedgerEntry"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("AuditEntry(case=c)", [(1, "AuditEntry", "constructed")]),
        ("models.LedgerEntry(kind='x')", [(1, "LedgerEntry", "constructed")]),
        ("AuditEntry.objects.create(case=c)", [(1, "AuditEntry", "create")]),
        ("LedgerEntry._base_manager.bulk_create(rows)", [(1, "LedgerEntry", "bulk_create")]),
        ("c.execute('INSERT INTO replenish_auditentry (a) VALUES (1)')", [(1, "AuditEntry", SQL)]),
        ("c.execute(f'insert into {LedgerEntry._meta.db_table} (a) SELECT 1')", [(1, LEDGER, SQL)]),
        ("c.copy(f'COPY {LedgerEntry._meta.db_table} (a) FROM STDIN')", [(1, LEDGER, SQL)]),
        ("bulk_load(c, LedgerEntry._meta.db_table, cols, rows)", [(1, LEDGER, "bulk_load")]),
        ("rows_insert(AuditEntry, COLUMNS, rows)", [(1, "AuditEntry", "rows_insert")]),
        ("T = 'x'\nc.execute(f'INSERT INTO {T} (a) SELECT 1')", []),
        # reading is not writing, and neither is a comment or a filter
        ("# AuditEntry(case=c) is written by transitions\nx = 1", []),
        ("AuditEntry.objects.filter(case=c).count()", []),
        ("c.execute(f'SELECT * FROM {LedgerEntry._meta.db_table}')", []),
        ("c.execute('SELECT 1 FROM replenish_ledgerentry')", []),
        ("Notice.objects.create(case=c)", []),
    ],
)
def test_the_walk_tells_writing_from_mentioning(source, expected):
    assert writes_in(source) == expected


def test_a_constant_holding_the_table_name_is_seen_through():
    source = "c.execute(f'INSERT INTO {LEDGER} (a) SELECT 1')"
    assert writes_in(source, {"LEDGER": "replenish_ledgerentry"}) == [(1, LEDGER, SQL)]
