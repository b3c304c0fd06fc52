"""`field__in=[ids]` sent to PostgreSQL as one array parameter.

Django writes `id IN (%s, %s, …)`, a placeholder a value, and psycopg (client-side binding, as
Django uses it) quotes the values into the query's text one by one in Python: 3.5 ms for a
query of 896 ids, against 1.2 ms for `id = ANY(%s)` with the list as one array (measured on
this project's machine, docs/benchmarks.md). The daily run and the adjustment pass batches of
a thousand ids to every statement of a batch. PostgreSQL plans both forms alike: it turns a
long `IN` list into `= ANY(ARRAY[…])` itself.

Only a plain list of integers is rewritten (keys, the hot case), on a single column, without
transforms on both sides; anything else (a subquery, expressions, strings, dates, composite
keys) is Django's `IN` unchanged, and other databases always get Django's `IN`.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class _AsArrayOnPostgres:
    """Mixed into `In` and `RelatedIn`: `as_postgresql` (Django calls it in place of `as_sql`
    on PostgreSQL) writes `lhs = ANY(%s)` when the values are a plain list of integers."""

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, Any]:
        lookup: Any = self
        single = not isinstance(lookup.lhs, ColPairs | tuple)  # composite keys: Django's SQL
        if single and lookup.rhs_is_direct_value() and not lookup.bilateral_transforms:
            # `process_rhs` drops None and repeats, prepares each value by its field, and raises
            # EmptyResultSet for an empty list, as for `IN`.
            placeholder, params = lookup.process_rhs(compiler, connection)
            if placeholder == "(" + ", ".join(["%s"] * len(params)) + ")" and all(
                type(value) is int for value in params
            ):
                lhs, lhs_params = lookup.process_lhs(compiler, connection)
                return f"{lhs} = ANY(%s)", (*lhs_params, list(params))
        sql: tuple[str, Any] = lookup.as_sql(compiler, connection)
        return sql


class InAsArray(_AsArrayOnPostgres, In):  # type: ignore[type-arg]  # generic in the stubs only
    pass


class RelatedInAsArray(_AsArrayOnPostgres, RelatedIn):
    pass


def register() -> None:
    """Make these the `in` lookup of every field and every foreign key (from start-up:
    `kernel.apps`)."""
    Field.register_lookup(InAsArray)
    ForeignObject.register_lookup(RelatedInAsArray)
