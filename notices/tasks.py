"""Celery tasks of notices: thin, idempotent, acknowledged late (a task of a worker that died is
handed out again and finds its message sent, or sends it)."""

from celery import shared_task
from django.utils import timezone

from notices.outbox import notifications_sweep
from notices.reminders import reminders_send_due
from notices.sending import notification_send


@shared_task(name="notices.notification_send", acks_late=True, ignore_result=True)
def notification_send_task(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(name="notices.notifications_sweep", acks_late=True, ignore_result=True)
def notifications_sweep_task() -> int:
    return notifications_sweep()


@shared_task(name="notices.dispatch", acks_late=True, ignore_result=True)
def dispatch_task() -> dict[str, int]:
    """The short periodic job: reminders that fell due become notifications, and every message
    waiting (new, to retry, or whose task was lost with the broker) is queued."""
    now = timezone.now()
    return {
        "reminders": reminders_send_due(now=now),
        "queued": notifications_sweep(now=now),
    }
