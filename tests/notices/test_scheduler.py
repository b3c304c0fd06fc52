"""The scheduler: django-celery-beat rows made by a data migration, the tasks they name, and
`run_daily` running the same code as the daily task."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.celery import app
from operations.tasks import run_daily_task

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_daily_run_and_the_minute_job():
    # given the migrated database
    tasks = {t.task: t for t in PeriodicTask.objects.select_related("crontab", "interval")}

    # then the daily run at 01:00 Shanghai and the dispatch job every 60 seconds are there
    daily = tasks["replenish.run_daily"]
    assert (daily.crontab.hour, daily.crontab.minute, str(daily.crontab.timezone)) == (
        "1",
        "0",
        "Asia/Shanghai",
    )
    dispatch = tasks["notices.dispatch"]
    assert (dispatch.interval.every, dispatch.interval.period) == (60, "seconds")
    assert daily.enabled and dispatch.enabled


def test_every_scheduled_task_is_a_registered_task_and_beat_reads_the_database():
    registered = set(app.tasks)
    assert set(PeriodicTask.objects.values_list("task", flat=True)) <= registered
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert not hasattr(settings, "CELERY_BEAT_SCHEDULE")


def test_run_daily_and_the_daily_task_give_the_same_report():
    out = io.StringIO()
    call_command("run_daily", "--date", "2026-03-12", stdout=out)
    assert run_daily_task.apply(args=("2026-03-12",)).get() == out.getvalue().splitlines()
    assert out.getvalue().splitlines() == [
        "2026-03-12: 0 case(s) overdue (notice deadline passed)",
        "2026-03-12: 0 agreement(s) fulfilled",
        "2026-03-12: 0 agreement(s) breached (installment unpaid 15 days after its due date)",
        "2026-03-12: 0 arrival(s) posted, 0.00 applied, 0.00 kept as credit, 0 case(s) settled",
        "2026-03-12: 0 write-off(s) posted, 0.00 written off",
        "2026-03-12: 0 enforcement dossier(s) closed (case settled, under agreement or written "
        "off)",
        "2026-03-12: 0 enforcement dossier(s) without the guarantee required",
        "2026-03-12: 0 reminder(s) sent",
    ]
