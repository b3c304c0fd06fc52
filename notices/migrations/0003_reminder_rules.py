"""The reminder rules with their default days; staff change them in the admin."""

from django.db import migrations

RULES = [
    ("notice_deadline_approaching", 2),
    ("notice_overdue", 1),
    ("installment_due_7", 7),
    ("installment_due_1", 1),
    ("installment_overdue", 1),
    ("agreement_breached", 0),
    ("writeoff_waiting", 30),
    ("arrival_unmatched", 7),
]


def create_rules(apps, schema_editor):
    ReminderRule = apps.get_model("notices", "ReminderRule")
    for code, days in RULES:
        ReminderRule.objects.get_or_create(code=code, defaults={"days": days, "enabled": True})


def delete_rules(apps, schema_editor):
    apps.get_model("notices", "ReminderRule").objects.filter(
        code__in=[code for code, _days in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notices", "0002_delivery_notifications_reminders")]

    operations = [migrations.RunPython(create_rules, delete_rules)]
