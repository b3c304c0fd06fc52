"""The scheduler's jobs as django-celery-beat rows, which staff can change in the admin
("Periodic tasks"): the daily run (at DAILY_RUN_HOUR:DAILY_RUN_MINUTE, the agency's time zone)
and the short job that sends due reminders and sweeps unsent notifications (every minute)."""

from django.conf import settings
from django.db import migrations

DAILY = "replenish: daily run"
DISPATCH = "notices: send due reminders and waiting notifications"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _created = CrontabSchedule.objects.get_or_create(
        minute=str(settings.DAILY_RUN_MINUTE),
        hour=str(settings.DAILY_RUN_HOUR),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    minute, _created = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=DAILY,
        defaults={
            "task": "replenish.run_daily",
            "crontab": daily,
            "description": "Notice deadlines passed, reminders scheduled and sent (run_daily).",
        },
    )
    PeriodicTask.objects.get_or_create(
        name=DISPATCH,
        defaults={
            "task": "notices.dispatch",
            "interval": minute,
            "description": "Reminders due become notifications; unsent notifications are queued.",
        },
    )


def delete_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[DAILY, DISPATCH]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0003_reminder_rules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
