"""On PostgreSQL the database writes a ledger entry's `recorded_at`: the start of its transaction
by the database's clock (`ledger._database_records_the_time`). A default the model does not
declare: SQLite is given the process's clock with each entry, and altering the column there
would rebuild the table without its append-only triggers."""

from django.db import migrations

DEFAULT = (
    "ALTER TABLE replenish_ledgerentry ALTER COLUMN recorded_at SET DEFAULT transaction_timestamp()"
)
NO_DEFAULT = "ALTER TABLE replenish_ledgerentry ALTER COLUMN recorded_at DROP DEFAULT"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0026_i21_paid_month_reading"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(DEFAULT), _on_postgresql(NO_DEFAULT)),
    ]
