"""Celery tasks: thin wrappers that take plain values, call a service and return a summary."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from operations.daily import daily_run


@shared_task(name="replenish.run_daily")
def run_daily_task(as_of: str | None = None) -> list[str]:
    """The scheduler's daily run; the same code as `manage.py run_daily`, and as idempotent."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return daily_run(as_of=day).lines()
