"""The reminder rule of the court-application window (30 days before it closes)."""

from django.db import migrations


def create_rule(apps, schema_editor):
    ReminderRule = apps.get_model("notices", "ReminderRule")
    ReminderRule.objects.get_or_create(
        code="court_window_closing", defaults={"days": 30, "enabled": True}
    )


def delete_rule(apps, schema_editor):
    apps.get_model("notices", "ReminderRule").objects.filter(code="court_window_closing").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0002_i18_enforcement_duties"),
        ("notices", "0003_reminder_rules"),
    ]

    operations = [migrations.RunPython(create_rule, delete_rule)]
