"""The reminder rule of returned write-off applications (default 15 days); staff change it in
the admin ("Reminder rules")."""

from django.db import migrations


def create_rule(apps, schema_editor):
    apps.get_model("notices", "ReminderRule").objects.get_or_create(
        code="writeoff_returned", defaults={"days": 15, "enabled": True}
    )


def delete_rule(apps, schema_editor):
    apps.get_model("notices", "ReminderRule").objects.filter(code="writeoff_returned").delete()


class Migration(migrations.Migration):
    dependencies = [("notices", "0005_i21_reminder_subject")]

    operations = [migrations.RunPython(create_rule, delete_rule)]
