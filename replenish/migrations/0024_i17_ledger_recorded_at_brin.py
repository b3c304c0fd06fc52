"""A BRIN index on the ledger's `recorded_at` (PostgreSQL only): the paid person-month batch looks
at the months with entries recorded since the previous batch. Entries are appended in the order
they are recorded, so a block-range index (a few pages for millions of rows, next to nothing to
maintain on insert) finds them; SQLite, the development database, reads its small ledger whole."""

from django.db import migrations

INDEX = "ledger_recorded_at_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON replenish_ledgerentry USING brin (recorded_at)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("replenish", "0023_i13_corrected_credit_line")]

    operations = [migrations.RunPython(create, drop)]
