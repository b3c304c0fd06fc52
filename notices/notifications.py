"""Outbound messages: created as rows in the transaction of the action they report, sent by a task
after commit, swept up by a periodic job when the broker was away or an attempt failed.

Exactly once, as far as the channel allows: a message is one row with a unique dedupe key, and
`notification_send` sends it while holding the row's lock and marks it sent in the same
transaction. A replayed or duplicated task finds the row sent and does nothing; a worker killed
in the middle of a send rolls back, and the message is sent again by the task's redelivery
(`acks_late`) or by the sweep. The portal inbox is in the database, so it is exactly once; for
e-mail and SMS the only window left is between the provider accepting a message and the commit,
which is why the dedupe key goes along as the e-mail's Message-ID and the SMS gateway's reference.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from notices.messages import Kind, message_render
from notices.models import (
    Channel,
    Department,
    Notice,
    NoticeState,
    Notification,
    NotificationState,
    UnitContact,
)
from notices.sms import SendError, sms_backend
from replenish.actors import Actor, System, actor_label, require_permission
from replenish.models import ArrearsCase
from replenish.sql import models_insert

logger = logging.getLogger(__name__)


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
WORKER = System("notifications")
SWEEP_BATCH = 500
# The staff groups of each department (the demo creates them; README, "Departments").
DEPARTMENT_GROUPS = {
    Department.COLLECTION: "征缴部门",
    Department.FINANCE: "财务管理部门",
    Department.AUDIT: "稽核监督部门",
}


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

    def row(self, now: datetime) -> Notification:
        return Notification(
            dedupe_key=self.dedupe_key,
            kind=self.kind,
            channel=self.channel,
            context=self.context,
            unit_id=self.unit_id,
            department=self.department,
            address=self.address,
            case_id=self.case_id,
            notice_id=self.notice_id,
            language=settings.LANGUAGE_CODE,
            next_attempt_at=now,
            created_at=now,
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
    rows = [o.row(now) for o in outgoing]
    if dispatch == "each":
        for row in rows:
            row.enqueued_at = now
    models_insert(rows, ignore_conflicts=True)
    if dispatch == "each":
        keys = [o.dedupe_key for o in outgoing]
        ids = list(
            Notification.objects.filter(
                dedupe_key__in=keys, state=NotificationState.PENDING, enqueued_at=now
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _publish_each(ids), robust=True)
    else:
        transaction.on_commit(_publish_sweep, robust=True)
    return len(rows)


def _publish_each(ids: list[int]) -> None:
    """Queue a send task per message; with the broker down the rows wait for the sweep."""
    from notices.tasks import notification_send_task

    for index, pk in enumerate(ids):
        try:
            if publish_pause.active():
                raise ConnectionError("publishing paused after a broker failure")
            notification_send_task.apply_async((pk,), retry=False)
        except Exception:
            publish_pause.start()
            logger.warning("broker unavailable: %d notification(s) left to the sweep", len(ids))
            Notification.objects.filter(pk__in=ids[index:], state=NotificationState.PENDING).update(
                enqueued_at=None
            )
            return


def _publish_sweep() -> None:
    from notices.tasks import notifications_sweep_task

    try:
        if publish_pause.active():
            raise ConnectionError("publishing paused after a broker failure")
        notifications_sweep_task.apply_async(retry=False)
    except Exception:
        publish_pause.start()
        logger.warning("broker unavailable: the periodic sweep will send the notifications")


def notifications_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Queue a send task for every message that is due and not queued recently: new ones whose
    task was never published (broker down), ones waiting for a retry, ones whose task was lost.

    Returns how many were queued. Stops at the first publishing error: the broker is down, and
    the rows stay as they are for the next sweep.
    """
    from notices.tasks import notification_send_task

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
                notification_send_task.apply_async((pk,), retry=False)
            except Exception:
                logger.warning("broker unavailable: sweep stopped, %d queued", queued)
                Notification.objects.filter(
                    pk__in=ids[index:], state=NotificationState.PENDING
                ).update(enqueued_at=None)
                return queued
            queued += 1


def _not_queued_since(moment: datetime) -> Q:
    return Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=moment)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the n-th failed attempt, at most six hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def notification_send(
    *, notification_id: int, now: datetime | None = None, actor: Actor = WORKER
) -> str:
    """Send one message if it is still waiting and due; returns what happened (`sent`, `retry`,
    `failed`, `skipped`, `not due`).

    A delivery message of a notice that gets through delivers the notice (its time limit starts
    that day), in the same transaction; for that the case and the notice are locked first,
    parent before child.
    """
    now = now or timezone.now()
    with transaction.atomic():
        head = (
            Notification.objects.filter(pk=notification_id)
            .values("state", "kind", "channel", "case_id", "notice_id")
            .first()
        )
        if head is None or head["state"] != NotificationState.PENDING:
            return "skipped"
        delivers = _delivers_notice(head)
        notice = None
        if delivers:
            list(ArrearsCase.objects.select_for_update().filter(pk=head["case_id"]).values("pk"))
            notice = Notice.objects.select_for_update().get(pk=head["notice_id"])
        message = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("unit")
            .get(pk=notification_id)
        )
        if message.state != NotificationState.PENDING:
            return "skipped"
        if message.next_attempt_at > now:
            return "not due"
        message.attempts += 1
        if notice is not None and notice.state == NoticeState.SUPERSEDED:
            _apply(
                message,
                "give_up",
                also=["attempts"],
                error=f"notice {notice.number} was superseded before this message went out",
            )
            return "failed"
        try:
            rendered = message_render(
                message.kind, message.context, channel=message.channel, language=message.language
            )
            _deliver(message, rendered.subject, rendered.body, notice=notice)
        except Exception as exc:
            return _record_failure(message, exc, now=now)
        _apply(
            message,
            "mark_sent",
            also=["attempts"],
            at=now,
            subject=rendered.subject,
            body=rendered.body,
        )
        if notice is not None and notice.state == NoticeState.ISSUED:
            from notices.services import notice_delivered

            notice_delivered(
                notice,
                channel=message.channel,
                delivered_on=timezone.localdate(now),
                actor=actor,
                reason=f"{message.get_channel_display()} sent ({message.dedupe_key})",
            )
    return "sent"


def _delivers_notice(head: dict) -> bool:
    """E-mail and SMS deliver a notice when sent; the portal inbox when the unit reads it."""
    return (
        head["kind"] == Kind.NOTICE_ISSUED
        and head["notice_id"] is not None
        and head["channel"] in (Channel.EMAIL, Channel.SMS)
    )


def _deliver(message: Notification, subject: str, body: str, *, notice: Notice | None) -> None:
    if message.channel == Channel.PORTAL:
        return  # the row is the inbox message: sent means the unit can see it
    if message.channel == Channel.SMS:
        sms_backend().send(to=message.address, text=body, reference=message.dedupe_key)
        return
    recipients = [message.address] if message.address else _department_addresses(message)
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id(message.dedupe_key)},
    )
    if notice is not None:
        from notices.documents import notice_document, pdf_render

        email.attach(f"{notice.number}.pdf", pdf_render(notice_document(notice)), "application/pdf")
    email.send()


def message_id(dedupe_key: str) -> str:
    """The same for every attempt at one message, so a mail client shows a resent one once."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{dedupe_key.replace(':', '.')}@{domain}>"


def _department_addresses(message: Notification) -> list[str]:
    group = DEPARTMENT_GROUPS.get(message.department)
    addresses = sorted(
        get_user_model()
        .objects.filter(groups__name=group, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not addresses:
        raise SendError(
            f"no active user of the group {group!r} has an e-mail address", permanent=True
        )
    return addresses


def _is_permanent(exc: Exception) -> bool:
    import smtplib

    if isinstance(exc, SendError):
        return exc.permanent
    return isinstance(exc, smtplib.SMTPRecipientsRefused | KeyError | ValueError)


def _record_failure(message: Notification, exc: Exception, *, now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    logger.warning("notification %s: attempt %d failed: %s", message.pk, message.attempts, error)
    if _is_permanent(exc) or message.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _apply(message, "give_up", also=["attempts"], error=error)
        return "failed"
    message.last_error = error
    message.next_attempt_at = now + backoff(message.attempts)
    message.enqueued_at = None
    message.save(update_fields=["attempts", "last_error", "next_attempt_at", "enqueued_at"])
    return "retry"


def _apply(message: Notification, name: str, *, also: Sequence[str] = (), **kwargs) -> None:
    """Run a notification's transition and save what it changed.

    Not `transition_apply`: a notification is its own record (attempts, errors, when it was sent,
    the text that went out), and many have no case for an audit row (an unmatched arrival).
    """
    method = getattr(message, name)
    if not can_proceed(method):
        raise ValidationError(
            _("Notification %(key)s is %(state)s: %(action)s is not possible.")
            % {"key": message.dedupe_key, "state": message.get_state_display(), "action": name}
        )
    before = {f.attname: getattr(message, f.attname) for f in message._meta.concrete_fields}
    method(**kwargs)
    changed = [
        f.attname
        for f in message._meta.concrete_fields
        if getattr(message, f.attname) != before[f.attname]
    ]
    message.save(update_fields=[*changed, *also])


def notifications_retry(
    *, notification_ids: Sequence[int], actor: Actor, now: datetime | None = None
) -> int:
    """Staff send failed messages again (after fixing an address, say): each goes back to
    waiting, due now, and is queued after commit. Returns how many."""
    require_permission(actor, "notices.retry_notification")
    now = now or timezone.now()
    with transaction.atomic():
        messages = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(notification_ids))
            .order_by("pk")
        )
        not_failed = [m.dedupe_key for m in messages if m.state != NotificationState.FAILED]
        if not_failed:
            raise ValidationError(
                _("Only failed notifications can be retried; not: %(keys)s.")
                % {"keys": ", ".join(not_failed)}
            )
        for message in messages:
            _apply(message, "retry", at=now)
            message.last_error = f"{message.last_error}\n(retried by {actor_label(actor)})"[-2000:]
            message.enqueued_at = now
            message.save(update_fields=["last_error", "enqueued_at"])
        ids = [m.pk for m in messages]
        transaction.on_commit(lambda: _publish_each(ids), robust=True)
    return len(ids)


def notification_read(*, notification_id: int, actor: Actor, now: datetime | None = None):
    """The unit opened a message in its portal inbox. Opening a notice's delivery message
    delivers the notice (electronic service counts when the unit can be shown to have it)."""
    now = now or timezone.now()
    with transaction.atomic():
        head = (
            Notification.objects.filter(pk=notification_id)
            .values("case_id", "notice_id", "kind", "channel", "state")
            .first()
        )
        if head is None or head["channel"] != Channel.PORTAL:
            raise ValidationError({"notification": _("No such message in the portal inbox.")})
        notice = None
        if head["kind"] == Kind.NOTICE_ISSUED and head["notice_id"]:
            list(ArrearsCase.objects.select_for_update().filter(pk=head["case_id"]).values("pk"))
            notice = Notice.objects.select_for_update().get(pk=head["notice_id"])
        message = Notification.objects.select_for_update().get(pk=notification_id)
        if message.state != NotificationState.SENT:
            raise ValidationError({"notification": _("This message is not in the inbox yet.")})
        if message.read_at is None:
            message.read_at = now
            message.save(update_fields=["read_at"])
        if notice is not None and notice.state == NoticeState.ISSUED:
            from notices.services import notice_delivered

            notice_delivered(
                notice,
                channel=Channel.PORTAL,
                delivered_on=timezone.localdate(now),
                actor=actor,
                reason=f"read in the portal inbox ({message.dedupe_key})",
            )
    return message
