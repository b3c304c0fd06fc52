"""Drop two foreign-key indexes that a composite index already covers: every line and ledger entry
an import writes paid for an index insertion nobody reads (docs/benchmarks.md).

- `arrearsline.case_id`: covered by `line_case_due` (case_id, due_date);
- `ledgerentry.line_id`: covered by `ledger_line_kind` (line_id, kind).

PostgreSQL only. On SQLite an AlterField rebuilds the whole table, which would drop the ledger's
append-only triggers (migration 0002); there the two indexes stay, and only the model state
changes.
"""

import django.db.models.deletion
from django.db import migrations, models

COVERED = (("arrearsline", "case_id"), ("ledgerentry", "line_id"))


def _index_names(apps, schema_editor):
    for model_name, column in COVERED:
        table = apps.get_model("replenish", model_name)._meta.db_table
        # The name Django gave the index when it created the foreign key.
        yield table, column, schema_editor._create_index_name(table, [column], suffix="")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in _index_names(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, name in _index_names(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0008_writeoff_duties"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="arrearsline",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="replenish.arrearscase",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="line",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ledger_entries",
                        to="replenish.arrearsline",
                        verbose_name="line",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
