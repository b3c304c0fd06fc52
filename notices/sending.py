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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from kernel.actors import Actor, System, actor_label, require_permission
from notices.documents import notice_document, pdf_render
from notices.messages import Kind, message_render
from notices.models import (
    Channel,
    Department,
    Notice,
    NoticeState,
    Notification,
    NotificationState,
)
from notices.outbox import publish_each
from notices.services import notice_delivered
from notices.sms import SendError, sms_backend
from replenish.models import ArrearsCase
from replenish.reasons import Reason

logger = logging.getLogger(__name__)

WORKER = System("notifications")

# The staff groups of each department (the demo creates them; README, "Departments").
DEPARTMENT_GROUPS: dict[str, str] = {
    Department.COLLECTION: "征缴部门",
    Department.FINANCE: "财务管理部门",
    Department.AUDIT: "稽核监督部门",
}


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
            send = _delivery(message, rendered.subject, rendered.body, notice=notice)
        except Exception as exc:
            return _record_failure(message, exc, now=now)
        # Everything the message's going out changes is written first, and the provider is
        # handed the message last, just before the commit: a worker killed after the provider
        # took it and before the commit (the message is then sent again, under the same
        # reference) has only the commit's own moment to fall in.
        attempts = message.attempts
        before_send = transaction.savepoint()
        _apply(
            message,
            "mark_sent",
            also=["attempts"],
            at=now,
            subject=rendered.subject,
            body=rendered.body,
        )
        if notice is not None and notice.state == NoticeState.ISSUED:
            notice_delivered(
                notice,
                channel=message.channel,
                delivered_on=timezone.localdate(now),
                actor=actor,
                reason=Reason("sent", channel=message.channel, key=message.dedupe_key),
            )
        try:
            send()
        except Exception as exc:
            transaction.savepoint_rollback(before_send)
            message = Notification.objects.select_related("unit").get(pk=notification_id)
            message.attempts = attempts
            return _record_failure(message, exc, now=now)
        transaction.savepoint_commit(before_send)
    return "sent"


def _delivers_notice(head: dict) -> bool:
    """E-mail and SMS deliver a notice when sent; the portal inbox when the unit reads it."""
    return (
        head["kind"] == Kind.NOTICE_ISSUED
        and head["notice_id"] is not None
        and head["channel"] in (Channel.EMAIL, Channel.SMS)
    )


def _delivery(
    message: Notification, subject: str, body: str, *, notice: Notice | None
) -> Callable[[], object]:
    """The message made ready for its channel (the e-mail built, the notice's PDF attached, as
    the notice stands before this message delivers it); calling the result hands it over."""
    if message.channel == Channel.PORTAL:
        return lambda: None  # the row is the inbox message: sent means the unit can see it
    if message.channel == Channel.SMS:
        gateway = sms_backend()
        return lambda: gateway.send(to=message.address, text=body, reference=message.dedupe_key)
    recipients = [message.address] if message.address else _department_addresses(message)
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id(message.dedupe_key)},
    )
    if notice is not None:
        email.attach(f"{notice.number}.pdf", pdf_render(notice_document(notice)), "application/pdf")
    return email.send


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
        transaction.on_commit(lambda: publish_each(ids), robust=True)
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
            notice_delivered(
                notice,
                channel=Channel.PORTAL,
                delivered_on=timezone.localdate(now),
                actor=actor,
                reason=Reason("read_in_portal", key=message.dedupe_key),
            )
    return message
