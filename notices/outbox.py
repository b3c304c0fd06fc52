"""The outbox: outbound messages are created as rows in the transaction of the action they report,
published to a worker after commit, swept up by a periodic job when the broker was away or an
attempt failed (`notices.sending` sends them).

Tasks are published by name (`notices.notification_send`, `notices.notifications_sweep`): the
tasks call the services, never the other way round.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kernel.sql import rows_insert
from notices.models import Channel, Notification, NotificationState, UnitContact

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500


@dataclass(frozen=True)
class Outgoing:
    """A message to create: to a unit through a channel, or to a department by e-mail."""

    dedupe_key: str
    kind: str
    channel: str
    context: dict[str, str] = field(default_factory=dict)
    unit_id: int | None = None
    department: str = ""
    address: str = ""
    case_id: int | None = None
    notice_id: int | None = None

    def values(self, now: datetime, *, enqueued: bool) -> tuple[Any, ...]:
        """The row's values, in the order of `OUTBOX_COLUMNS`."""
        return (
            *(self.dedupe_key, self.kind, self.channel, self.context, self.unit_id),
            *(self.department, self.address, self.case_id, self.notice_id),
            *(settings.LANGUAGE_CODE, now, now, now if enqueued else None),
        )


# The columns of a message `notifications_create` writes, in the order of `Outgoing.values`.
OUTBOX_COLUMNS = (
    *("dedupe_key", "kind", "channel", "context", "unit_id", "department", "address"),
    *("case_id", "notice_id", "language", "next_attempt_at", "created_at", "enqueued_at"),
)


def unit_channels(
    unit_ids: Iterable[int], *, allowed: Sequence[str] | None = None
) -> dict[int, list[tuple[str, str]]]:
    """(channel, address) pairs each unit can be reached on: its portal inbox always, e-mail and
    SMS when its contact has them. One query."""
    allowed = list(Channel.values if allowed is None else allowed)
    unit_ids = list(unit_ids)
    contacts = dict(
        (unit_id, (email, mobile))
        for unit_id, email, mobile in UnitContact.objects.filter(unit_id__in=unit_ids).values_list(
            "unit_id", "email", "mobile"
        )
    )
    result = {}
    for unit_id in unit_ids:
        email, mobile = contacts.get(unit_id, ("", ""))
        pairs = [(Channel.PORTAL.value, "")]
        if email:
            pairs.append((Channel.EMAIL.value, email))
        if mobile:
            pairs.append((Channel.SMS.value, mobile))
        result[unit_id] = [(c, a) for c, a in pairs if c in allowed]
    return result


class _PublishPause:
    """After a publish failed, the actions of the next settings.CELERY_PUBLISH_PAUSE seconds do
    not try the broker again (each try costs its bounded timeout): their messages wait for the
    sweep, as the failed one does. Per process."""

    until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.until

    def start(self) -> None:
        self.until = time.monotonic() + settings.CELERY_PUBLISH_PAUSE

    def end(self) -> None:
        self.until = 0.0


publish_pause = _PublishPause()


def notifications_create(
    outgoing: Sequence[Outgoing], *, dispatch: str = "each", now: datetime | None = None
) -> int:
    """Insert the messages (those already there are left alone: the dedupe key) and arrange for
    them to be sent once the caller's transaction commits.

    `dispatch="each"` queues one task per message (a staff action: a few messages);
    `dispatch="sweep"` queues one sweep (bulk work: thousands, with a constant number of queries).
    """
    if not outgoing:
        return 0
    now = now or timezone.now()
    # Values, not model instances: an issue of 2,500 notices spent 0.12 s building them.
    enqueued = dispatch == "each"
    rows_insert(
        Notification,
        OUTBOX_COLUMNS,
        [o.values(now, enqueued=enqueued) for o in outgoing],
        ignore_conflicts=True,
    )
    if dispatch == "each":
        keys = [o.dedupe_key for o in outgoing]
        ids = list(
            Notification.objects.filter(
                dedupe_key__in=keys, state=NotificationState.PENDING, enqueued_at=now
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: publish_each(ids), robust=True)
    else:
        transaction.on_commit(_publish_sweep, robust=True)
    return len(outgoing)


def publish_each(ids: list[int]) -> None:
    """Queue a send task per message; with the broker down the rows wait for the sweep."""
    for index, pk in enumerate(ids):
        try:
            if publish_pause.active():
                raise ConnectionError("publishing paused after a broker failure")
            current_app.tasks["notices.notification_send"].apply_async((pk,), retry=False)
        except Exception as exc:
            publish_pause.start()
            logger.warning(
                "broker unavailable (%s): %d notification(s) left to the sweep",
                exc.__class__.__name__,
                len(ids) - index,
                exc_info=not isinstance(exc, ConnectionError | OSError),
            )
            Notification.objects.filter(pk__in=ids[index:], state=NotificationState.PENDING).update(
                enqueued_at=None
            )
            return


def _publish_sweep() -> None:
    try:
        if publish_pause.active():
            raise ConnectionError("publishing paused after a broker failure")
        current_app.tasks["notices.notifications_sweep"].apply_async(retry=False)
    except Exception:
        publish_pause.start()
        logger.warning("broker unavailable: the periodic sweep will send the notifications")


def notifications_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Queue a send task for every message that is due and not queued recently: new ones whose
    task was never published (broker down), ones waiting for a retry, ones whose task was lost.

    Returns how many were queued. Stops at the first publishing error: the broker is down, and
    the rows stay as they are for the next sweep.
    """
    now = now or timezone.now()
    stale = now - timedelta(minutes=settings.NOTIFICATION_REQUEUE_MINUTES)
    queued = 0
    while True:
        with transaction.atomic():
            ids = list(
                Notification.objects.filter(
                    state=NotificationState.PENDING, next_attempt_at__lte=now
                )
                .filter(_not_queued_since(stale))
                .order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return queued
            Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
        for index, pk in enumerate(ids):
            try:
                current_app.tasks["notices.notification_send"].apply_async((pk,), retry=False)
            except Exception:
                logger.warning("broker unavailable: sweep stopped, %d queued", queued)
                Notification.objects.filter(
                    pk__in=ids[index:], state=NotificationState.PENDING
                ).update(enqueued_at=None)
                return queued
            queued += 1


def _not_queued_since(moment: datetime) -> Q:
    return Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=moment)
