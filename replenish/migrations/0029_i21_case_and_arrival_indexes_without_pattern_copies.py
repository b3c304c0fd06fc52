"""Fewer indexes written by each change of a case's state and each imported arrival (issue 21).

On PostgreSQL `unique=True` and `db_index=True` on a text column add, beside the btree index, a
`_like` pattern index (`varchar_pattern_ops`) for LIKE searches. No query uses them: nothing
looks a case's number, state or region, or an arrival's reference, up by its beginning (the
admin's searches compare whole values; docs/benchmarks.md lists each index and its query).
So a case's number and an arrival's reference are unique by constraints, the region is indexed
by `case_region`, and a case's state has no index of its own: `case_state_no` (state, case
number) serves every lookup by state. Four indexes of the cases and one of the arrivals are
gone; the state UPDATE of 900 cases took 102–104 ms without them against 177 ms with them.

SQLite (the embedded default) keeps its schema: it has no pattern indexes, and rebuilding the
cases' table there, as altering a column does, would break the key triggers of the tables that
refer to it (migration 0028). The model state changes everywhere."""

import django_fsm
from django.db import migrations, models


class OnPostgreSQL(migrations.SeparateDatabaseAndState):
    """The operations' state everywhere, their schema change on PostgreSQL only."""

    def __init__(self, operations):
        super().__init__(database_operations=operations, state_operations=operations)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0028_i21_keys_checked_a_statement_at_a_time"),
    ]

    operations = [
        OnPostgreSQL(
            [
                # The constraints first, so the numbers are never without one.
                migrations.AddConstraint(
                    model_name="arrearscase",
                    constraint=models.UniqueConstraint(fields=("case_no",), name="case_no_unique"),
                ),
                migrations.AddConstraint(
                    model_name="arrival",
                    constraint=models.UniqueConstraint(
                        fields=("arrival_ref",), name="arrival_ref_unique"
                    ),
                ),
                migrations.AddIndex(
                    model_name="arrearscase",
                    index=models.Index(fields=["region_code"], name="case_region"),
                ),
                migrations.AlterField(
                    model_name="arrearscase",
                    name="case_no",
                    field=models.CharField(max_length=20, verbose_name="case number"),
                ),
                migrations.AlterField(
                    model_name="arrearscase",
                    name="region_code",
                    field=models.CharField(max_length=6, verbose_name="region code"),
                ),
                migrations.AlterField(
                    model_name="arrearscase",
                    name="state",
                    field=django_fsm.FSMField(
                        choices=[
                            ("registered", "registered"),
                            ("notified", "notified"),
                            ("overdue", "overdue"),
                            ("agreement", "under agreement"),
                            ("writeoff", "write-off under examination"),
                            ("settled", "settled"),
                            ("written_off", "written off"),
                            ("transferred", "transferred to successors"),
                        ],
                        default="registered",
                        max_length=16,
                        protected=True,
                        verbose_name="state",
                    ),
                ),
                migrations.AlterField(
                    model_name="arrival",
                    name="arrival_ref",
                    field=models.CharField(max_length=64, verbose_name="arrival reference"),
                ),
            ]
        ),
    ]
