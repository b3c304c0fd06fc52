"""The few places where the set-based SQL of imports and the daily run differs by database.

Everything else is portable SQL that PostgreSQL and SQLite (3.35+) both run: INSERT … SELECT,
ON CONFLICT, UPDATE … FROM, window functions.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import DatabaseDefault
from psycopg.types.json import Jsonb


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`column IN (ids)` as SQL and its parameters. On PostgreSQL one array parameter
    (`column = ANY(%s)`): psycopg parses a query's placeholders in Python, 5 ms for a query with
    a thousand of them, a batch's arrivals or lines."""
    if not ids:
        return "FALSE", []
    if is_postgres():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def zero_padded(expression: str, width: int) -> str:
    """SQL for `expression` (an integer) as text zero-padded to `width` digits."""
    if is_postgres():
        return f"lpad(({expression})::text, {width}, '0')"
    return f"printf('%%0{width}d', {expression})"


def create_temp_table(cursor: CursorWrapper, name: str, columns: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    if is_postgres():
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP")
    else:
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")


def bulk_load(
    cursor: CursorWrapper, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Load rows into a table in one statement: COPY on PostgreSQL, one executemany on SQLite."""
    if is_postgres():
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        # sqlite3 streams any iterable of rows (django-stubs asks for a Sequence): a file's rows
        # are not held in memory.
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            cast("Sequence[Sequence[Any]]", rows),
        )


def models_insert(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert new model instances of one model, reading nothing back (their pk stays None).

    PostgreSQL: one COPY, each value prepared by its field as `bulk_create` prepares it. For
    large rows it is several times cheaper than `bulk_create`'s INSERT … VALUES, whose SQL text
    psycopg must scan for placeholders (a batch of notices with their snapshots is tens of MB),
    or its UNNEST arrays, which psycopg quotes in Python (a jsonb[] of messages' contexts).
    With `ignore_conflicts`, rows a unique constraint already holds are left out (COPY into a
    temporary table, then INSERT … ON CONFLICT DO NOTHING). Other databases: `bulk_create`.
    """
    if not objs:
        return
    model = type(objs[0])
    if not is_postgres():
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    # Every column but the generated key. (Not `db_returning_fields`: that holds the columns
    # with a database default too, whose values would be lost.)
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    _copy_in(model, fields, map(_row_writer(fields), objs), ignore_conflicts=ignore_conflicts)


def _copy_in(
    model: type[models.Model],
    fields: Sequence["models.Field[Any, Any]"],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool,
) -> None:
    """COPY prepared rows into the model's table (PostgreSQL); with `ignore_conflicts` through
    a temporary table and INSERT … ON CONFLICT DO NOTHING."""
    table = model._meta.db_table
    quoted = [connection.ops.quote_name(f.column) for f in fields]
    columns = ", ".join(quoted)
    target = f"{table}_incoming" if ignore_conflicts else table
    with (
        # A constraint or trigger refusing a row raises Django's IntegrityError, as an INSERT's.
        connection.wrap_database_errors,
        connection.cursor() as cursor,
    ):
        if ignore_conflicts:
            cursor.execute(f"DROP TABLE IF EXISTS {target}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} AS SELECT {columns} FROM {table} WITH NO DATA"
            )
        bulk_load(cursor, target, quoted, rows)
        if ignore_conflicts:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target} "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {target}")


def rows_insert(
    model: type[models.Model],
    attnames: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    database_fills: Sequence[str] = (),
) -> None:
    """Insert rows given as the values of the named fields (`case_id`, not `case`), reading
    nothing back: `models_insert` without a model instance a row (building a ledger entry
    cost 50 µs, more than the 33 µs of writing it). Each value is prepared as `models_insert`
    prepares it; the model's other fields take their defaults, but for the columns named in
    `database_fills`, left to the table's own default. PostgreSQL: one COPY; other databases:
    `bulk_create` of the instances (`database_fills` is PostgreSQL's only). `ignore_conflicts`
    as for `models_insert`."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    named = [by_attname[attname] for attname in attnames]
    if not is_postgres():
        if database_fills:
            raise ValueError("database_fills: a column default written by PostgreSQL only")
        model._default_manager.bulk_create(
            (model(**dict(zip(attnames, row, strict=True))) for row in rows),
            ignore_conflicts=ignore_conflicts,
        )
        return
    left_out = {by_attname[attname] for attname in database_fills}
    others = [
        f
        for f in meta.concrete_fields
        if f is not meta.auto_field and f not in named and f not in left_out
    ]
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy is a lookup per use
    preparing = [(field, _unchanged_by_preparing(field)) for field in (*named, *others)]

    def prepared(row: Sequence[Any]) -> list[Any]:
        values = [*row, *(_default_of(field) for field in others)]
        return [
            value if unchanged(value) else field.get_db_prep_save(value, db)
            for value, (field, unchanged) in zip(values, preparing, strict=True)
        ]

    _copy_in(
        model,
        [field for field, _ in preparing],
        map(prepared, rows),
        ignore_conflicts=ignore_conflicts,
    )


def _row_writer(fields: Sequence["models.Field[Any, Any]"]) -> Callable[[models.Model], list[Any]]:
    """The values COPY writes for an instance: each field's value prepared as `bulk_create`
    prepares it (`pre_save`, then `get_db_prep_save`), without the preparing where it would give
    the value back unchanged on PostgreSQL (`_unchanged_by_preparing`), which is most of them.
    Preparing every value cost 156 µs a ledger row through the `connection` proxy and 74 µs on
    the connection itself, against 7 µs for reading the values (docs/benchmarks.md)."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy is a lookup per use
    readers = [
        (field.attname, _unchanged_by_preparing(field) if _plain_pre_save(field) else None, field)
        for field in fields
    ]

    def row(obj: models.Model) -> list[Any]:
        values = []
        for attname, unchanged, field in readers:
            if unchanged is not None:
                value = getattr(obj, attname)
                if unchanged(value):
                    values.append(value)
                    continue
            value = field.pre_save(obj, True)
            if isinstance(value, DatabaseDefault):  # not given: the column's default
                value = _database_default(field)
            values.append(field.get_db_prep_save(value, db))
        return values

    return row


def _default_of(field: "models.Field[Any, Any]") -> Any:
    """The value of a field not given: its default, or its column's database default."""
    value = field.get_default()
    return _database_default(field) if isinstance(value, DatabaseDefault) else value


def _database_default(field: "models.Field[Any, Any]") -> Any:
    default = field.db_default  # a plain value, or an expression
    if isinstance(default, models.Value):
        return default.value
    if isinstance(default, models.Expression):
        raise ValueError(f"{field}: COPY writes a database default only when it is a value")
    return default


def _plain_pre_save(field: "models.Field[Any, Any]") -> bool:
    """Whether the field's `pre_save` only reads the attribute (not auto_now and the like)."""
    if isinstance(field, models.DateField):  # DateTimeField too
        return not (field.auto_now or field.auto_now_add)
    return type(field).pre_save is models.Field.pre_save


def _unchanged_by_preparing(field: "models.Field[Any, Any]") -> Callable[[Any], bool]:
    """A test of the values that this field's `get_db_prep_save` gives back unchanged on
    PostgreSQL: text, integers and keys, booleans, dates, aware times, finite decimals, NULL."""
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    # Most specific first: a DateTimeField is a DateField, an AutoField an IntegerField.
    for kind, kept in _KEPT_AS_THEY_ARE:
        if isinstance(field, kind):
            return lambda value: value is None or kept(value)
    return _never  # JSON, UUID, binary, …: the field adapts them


def _never(value: Any) -> bool:
    return False


_KEPT_AS_THEY_ARE: tuple[tuple[type | tuple[type, ...], Callable[[Any], bool]], ...] = (
    (models.DateTimeField, lambda v: type(v) is datetime and v.tzinfo is not None),
    (models.DateField, lambda v: type(v) is date),
    (models.DecimalField, lambda v: type(v) is Decimal and v.is_finite()),
    (models.BooleanField, lambda v: type(v) is bool),
    ((models.CharField, models.TextField), lambda v: type(v) is str),
    ((models.IntegerField, models.AutoField), lambda v: type(v) is int),
    # A JSON value `json_prepared` already adapted (a reason's arguments shared by many rows).
    (models.JSONField, lambda v: type(v) is Jsonb),
)


def json_prepared(value: Any) -> Any:
    """A JSON value adapted once for `rows_insert`, for a value many rows share: on PostgreSQL
    what `JSONField.get_db_prep_save` gives (which `rows_insert` then writes as it is), else the
    value itself (`bulk_create` prepares it)."""
    return Jsonb(value) if is_postgres() else value


def _concrete(field: object) -> "models.Field[Any, Any]":
    """A field `models_update` writes: a concrete column of the model."""
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{field} is not a column of the model")
    return field


def _cast_type(field: "models.Field[Any, Any]") -> str:
    """The type a value is cast to for this field's column (Django's `Field.cast_db_type`, which
    django-stubs does not declare)."""
    cast: str = field.cast_db_type(connection)  # type: ignore[attr-defined]
    return cast


def models_update(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of existing model instances (of one model) back, in time linear in their
    number.

    Django's `bulk_update` builds one UPDATE with a `CASE WHEN pk = … THEN …` branch per row,
    which the database evaluates for every row: quadratic, and posting a batch of 5,000 arrivals
    spent minutes in it (docs/benchmarks.md). PostgreSQL: one `UPDATE … FROM unnest(arrays)`,
    one array per column. Other databases: one prepared UPDATE per row (executemany).
    """
    if not objs:
        return
    meta = type(objs[0])._meta
    targets = [_concrete(meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    columns = [_concrete(meta.pk), *targets]
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy is a lookup per use
    values = []
    for field in columns:
        # SQLite's preparing turns dates, times and decimals into text: all are prepared there.
        unchanged = _unchanged_by_preparing(field) if is_postgres() else _never
        column = [getattr(obj, field.attname) for obj in objs]
        values.append(
            [value if unchanged(value) else field.get_db_prep_save(value, db) for value in column]
        )
    with connection.cursor() as cursor:
        if is_postgres():
            aliases = [f"v{i}" for i in range(len(columns))]
            arrays = ", ".join(f"%s::{_cast_type(field)}[]" for field in columns)
            sets = ", ".join(
                f"{quote(field.column)} = v.{alias}"
                for field, alias in zip(targets, aliases[1:], strict=True)
            )
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} SET {sets} "
                f"FROM unnest({arrays}) AS v({', '.join(aliases)}) "
                f"WHERE {quote(meta.db_table)}.{quote(meta.pk.column)} = v.{aliases[0]}",
                values,
            )
        else:
            sets = ", ".join(f"{quote(field.column)} = %s" for field in targets)
            cursor.executemany(
                f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s",
                [(*row[1:], row[0]) for row in zip(*values, strict=True)],
            )
