"""The keys of the arrears lines, the ledger entries, the arrivals and the audit trail (the rows
the imports write by the hundred thousand), checked by the database a statement at a time
instead of a row at a time (issue 21).

A foreign-key constraint checks each inserted row on its own at COMMIT: a million lines and a
million entries of an import cost some eight million lookups. The constraints are dropped
(`db_constraint=False`) and triggers keep the same integrity:

- PostgreSQL: after each INSERT statement, one anti-join of the statement's rows (its transition
  table) against each referenced table refuses the whole statement if any key refers to no row;
  a line's or an arrival's key changed by an UPDATE is checked on that row; after each DELETE
  statement on a referenced table, one join refuses it if a row still refers to a deleted one.
  TRUNCATE (the test suite's flush) fires no trigger.
- SQLite (the embedded default): a check a row before each INSERT and key UPDATE. Deletions are
  left to the models' PROTECT there, as the test suite's flush deletes table by table. Altering
  the columns rebuilds the four tables there, so the ledger's append-only triggers (migration
  0002) are made again, forwards and backwards.

Also, indexes only where a query needs them (docs/benchmarks.md lists each and its query):
imported lines have no source line, so that key is indexed only where set; the ledger and the
trail are not indexed by actor, nor arrivals by payer row (nothing reads them so); the trail's
case and the arrivals' state are served by the indexes they lead (`audit_case_at`,
`arrival_state_arrived`).
"""

import importlib

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models

# (child table, key column, referenced table); "{user}" is the user model's table.
KEYS = [
    ("replenish_arrearsline", "case_id", "replenish_arrearscase"),
    ("replenish_arrearsline", "unit_id", "units_unit"),
    ("replenish_arrearsline", "person_id", "units_insuredperson"),
    ("replenish_arrearsline", "source_line_id", "replenish_arrearsline"),
    ("replenish_arrearsline", "import_batch_id", "replenish_importbatch"),
    ("replenish_ledgerentry", "case_id", "replenish_arrearscase"),
    ("replenish_ledgerentry", "line_id", "replenish_arrearsline"),
    ("replenish_ledgerentry", "actor_id", "{user}"),
    ("replenish_arrival", "case_id", "replenish_arrearscase"),
    ("replenish_arrival", "payer_id", "units_unit"),
    ("replenish_arrival", "import_batch_id", "replenish_arrivalimport"),
    ("replenish_auditentry", "case_id", "replenish_arrearscase"),
    ("replenish_auditentry", "actor_id", "{user}"),
]
# Ledger entries are never updated (migration 0002), nor is the audit trail; a line's keys may
# be (a line moved by a split), and an arrival's are when it is matched.
UPDATED = ["replenish_arrearsline", "replenish_arrival"]


def _keys(apps):
    user = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    return [(child, column, parent.format(user=user)) for child, column, parent in KEYS]


def _by(keys, index):
    grouped = {}
    for key in keys:
        grouped.setdefault(key[index], []).append(key)
    return grouped


def _refuse(condition, message):
    return f"""
    IF {condition} THEN
        RAISE EXCEPTION '{message}' USING ERRCODE = 'foreign_key_violation';
    END IF;"""


def _missing(row, column, parent):
    """Whether `row`'s key `column` is set and refers to no row of `parent`."""
    return (
        f"{row}.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT FROM {parent} p WHERE p.id = {row}.{column})"
    )


def _function(name, checks):
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN{''.join(checks)}\n"
        "    RETURN NULL;\nEND $$ LANGUAGE plpgsql"
    )


def _postgres_forward(keys):
    statements = []
    for child, child_keys in _by(keys, 0).items():
        refers_to_nothing = [
            (column, parent, f"{child}.{column} refers to no row of {parent}")
            for _child, column, parent in child_keys
        ]
        # After an INSERT statement: each key of all its rows at once.
        statements += [
            _function(
                f"{child}_keys_exist",
                [
                    _refuse(f"EXISTS (SELECT FROM inserted n WHERE {_missing('n', c, p)})", m)
                    for c, p, m in refers_to_nothing
                ],
            ),
            f"CREATE TRIGGER {child}_keys_exist AFTER INSERT ON {child} "
            "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {child}_keys_exist()",
        ]
        if child not in UPDATED:
            continue
        # A key changed by an UPDATE: that row's (a trigger with a transition table would fire
        # on every update of the lines' cached balances).
        columns = [column for _child, column, _parent in child_keys]
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        statements += [
            _function(
                f"{child}_changed_keys_exist",
                [_refuse(_missing("NEW", c, p), m) for c, p, m in refers_to_nothing],
            ),
            f"CREATE TRIGGER {child}_changed_keys_exist AFTER UPDATE OF {', '.join(columns)} "
            f"ON {child} FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION {child}_changed_keys_exist()",
        ]
    for parent, parent_keys in _by(keys, 2).items():
        # After a DELETE statement: whether any row still refers to the rows deleted.
        statements += [
            _function(
                f"{parent}_keys_kept",
                [
                    _refuse(
                        f"EXISTS (SELECT FROM deleted o JOIN {child} c ON c.{column} = o.id)",
                        f"a row of {parent} deleted is still referred to by {child}.{column}",
                    )
                    for child, column, _parent in parent_keys
                ],
            ),
            f"CREATE TRIGGER {parent}_keys_kept AFTER DELETE ON {parent} "
            "REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {parent}_keys_kept()",
        ]
    return statements


def _postgres_backward(keys):
    statements = []
    for child in _by(keys, 0):
        statements += [
            f"DROP TRIGGER IF EXISTS {child}_keys_exist ON {child}",
            f"DROP FUNCTION IF EXISTS {child}_keys_exist()",
            f"DROP TRIGGER IF EXISTS {child}_changed_keys_exist ON {child}",
            f"DROP FUNCTION IF EXISTS {child}_changed_keys_exist()",
        ]
    for parent in _by(keys, 2):
        statements += [
            f"DROP TRIGGER IF EXISTS {parent}_keys_kept ON {parent}",
            f"DROP FUNCTION IF EXISTS {parent}_keys_kept()",
        ]
    return statements


def _sqlite_forward(keys):
    statements = []
    for child, column, parent in keys:
        missing = f"NOT EXISTS (SELECT 1 FROM {parent} WHERE id = NEW.{column})"
        refuse = f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {child}.{column}');"
        statements.append(
            f"CREATE TRIGGER {child}_{column}_exists BEFORE INSERT ON {child} "
            f"WHEN NEW.{column} IS NOT NULL AND {missing} BEGIN {refuse} END"
        )
        if child in UPDATED:
            statements.append(
                f"CREATE TRIGGER {child}_{column}_changed_exists BEFORE UPDATE OF {column} "
                f"ON {child} WHEN NEW.{column} IS NOT NULL AND NEW.{column} IS NOT OLD.{column} "
                f"AND {missing} BEGIN {refuse} END"
            )
    return statements


def _sqlite_backward(keys):
    statements = []
    for child, column, _parent in keys:
        statements.append(f"DROP TRIGGER IF EXISTS {child}_{column}_exists")
        statements.append(f"DROP TRIGGER IF EXISTS {child}_{column}_changed_exists")
    return statements


def _ledger_append_only():
    return importlib.import_module("replenish.migrations.0002_ledger_append_only_triggers")


def append_only_again(apps, schema_editor):
    """Backwards, after SQLite rebuilt the tables: the ledger's append-only triggers."""
    if schema_editor.connection.vendor == "sqlite":
        for statement in _ledger_append_only().SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _postgres_forward(_keys(apps))
    elif vendor == "sqlite":
        statements = [*_ledger_append_only().SQLITE_FORWARD, *_sqlite_forward(_keys(apps))]
    else:
        statements = []
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _postgres_backward(_keys(apps))
    elif vendor == "sqlite":
        # The constraints come back with a rebuild of the tables (the operations before this
        # one, undone next); `append_only_again`, undone last, makes the ledger's append-only
        # triggers again, so they are dropped here first.
        statements = [*_ledger_append_only().SQLITE_BACKWARD, *_sqlite_backward(_keys(apps))]
    else:
        statements = []
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0027_i21_ledger_recorded_by_the_database"),
        ("units", "0005_i19_regions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, append_only_again),
        migrations.AlterField(
            model_name="arrearsline",
            name="case",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="replenish.arrearscase",
                verbose_name="case",
            ),
        ),
        migrations.AlterField(
            model_name="arrearsline",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="replenish.importbatch",
            ),
        ),
        migrations.AlterField(
            model_name="arrearsline",
            name="person",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="arrears_lines",
                to="units.insuredperson",
                verbose_name="insured person",
            ),
        ),
        migrations.AlterField(
            model_name="arrearsline",
            name="source_line",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="successor_lines",
                to="replenish.arrearsline",
                verbose_name="apportioned from",
            ),
        ),
        migrations.AlterField(
            model_name="arrearsline",
            name="unit",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
                verbose_name="original unit",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="actor",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="case",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="replenish.arrearscase",
                verbose_name="case",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="line",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="replenish.arrearsline",
                verbose_name="line",
            ),
        ),
        migrations.AddIndex(
            model_name="arrearsline",
            index=models.Index(
                condition=models.Q(("source_line__isnull", False)),
                fields=["source_line"],
                name="line_source",
            ),
        ),
        migrations.AlterField(
            model_name="arrival",
            name="case",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="arrivals",
                to="replenish.arrearscase",
                verbose_name="case",
            ),
        ),
        migrations.AlterField(
            model_name="arrival",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="arrivals",
                to="replenish.arrivalimport",
                verbose_name="arrivals import",
            ),
        ),
        migrations.AlterField(
            model_name="arrival",
            name="payer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="arrivals",
                to="units.unit",
                verbose_name="payer",
            ),
        ),
        migrations.AlterField(
            model_name="arrival",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("received", "received"),
                    ("unmatched", "unmatched, waiting for finance"),
                    ("matched", "matched, waiting for the adjustment"),
                    ("posted", "posted to the ledger"),
                    ("reversed", "reversed"),
                ],
                default="received",
                max_length=16,
                protected=True,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="actor",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="case",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_entries",
                to="replenish.arrearscase",
                verbose_name="case",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
