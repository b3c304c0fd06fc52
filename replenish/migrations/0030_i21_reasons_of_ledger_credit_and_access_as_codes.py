"""The ledger's and the credit's entries, and the accesses to a person's records, keep their reason
as a code and its arguments (`replenish.models.Reasoned`, as the audit trail already did), so a
clerk reads why money moved in Chinese and not the English sentence a service wrote.

The columns are added in place on SQLite too: Django rebuilds a table there to add a column that
is NOT NULL, and rebuilding the ledger's table would drop its append-only and key triggers
(migrations 0002, 0005 and 0028). PostgreSQL adds a column with a constant default without rewriting.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


class AddFieldInPlace(migrations.AddField):
    """`AddField` by `ALTER TABLE … ADD COLUMN` on every database, never by a table rebuild."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        BaseDatabaseSchemaEditor.add_field(schema_editor, model, model._meta.get_field(self.name))


def reason_columns(model_name: str) -> list[migrations.AddField]:
    return [
        AddFieldInPlace(
            model_name=model_name,
            name="reason_code",
            field=models.CharField(
                blank=True, db_default="", max_length=48, verbose_name="reason code"
            ),
        ),
        AddFieldInPlace(
            model_name=model_name,
            name="reason_args",
            field=models.JSONField(
                blank=True,
                db_default=models.Value("{}"),
                default=dict,
                verbose_name="reason arguments",
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0029_i21_case_and_arrival_indexes_without_pattern_copies"),
    ]

    operations = [
        *reason_columns("ledgerentry"),
        *reason_columns("creditentry"),
        *reason_columns("personrecordaccess"),
    ]
