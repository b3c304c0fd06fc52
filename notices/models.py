from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field
from notices.messages import kind_label


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("draft")
    ISSUED = "issued", _("issued")
    DELIVERED = "delivered", _("delivered")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    SUPERSEDED = "superseded", _("superseded")


CURRENT_NOTICE_STATES = (NoticeState.ISSUED, NoticeState.DELIVERED, NoticeState.ACKNOWLEDGED)
DELIVERED_NOTICE_STATES = (NoticeState.DELIVERED, NoticeState.ACKNOWLEDGED)


class DeliveryChannel(models.TextChoices):
    PORTAL = "portal", _("portal inbox")
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    POST = "post", _("post")


class Notice(ConcurrentTransitionMixin, models.Model):
    """A social insurance premium replenishment notice (社会保险费补缴通知单).

    Its amounts are a snapshot fixed on the issue date (the late fee to that date, rounded per
    line); the notice is a legal document (Social Insurance Law Art. 86): the snapshot is never
    edited.
    """

    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("case"),
    )
    number = models.CharField(_("notice number"), max_length=32, unique=True)
    region_code = models.CharField(_("region code"), max_length=6)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    state = FSMField(
        _("state"),
        max_length=16,
        choices=NoticeState.choices,
        default=NoticeState.DRAFT,
        protected=True,
        db_index=True,
    )
    issued_on = models.DateField(_("issued on"))
    # The time limit runs from delivery (Art. 86: the unit is ordered to pay within a limit, which
    # can run only once the order reached it): empty until the notice is delivered.
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_channel = models.CharField(
        _("delivered by"), max_length=8, choices=DeliveryChannel.choices, blank=True
    )
    delivery_proof = models.FileField(
        _("proof of delivery"), upload_to="notices/delivery-proofs/%Y/", blank=True
    )
    delivery_note = models.CharField(_("delivery note"), max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    principal = money_field(_("principal"))
    late_fee = money_field(_("late fee to the issue date"))
    total = money_field(_("total"))
    snapshot = models.JSONField(_("snapshot"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("replenishment notice")
        verbose_name_plural = _("replenishment notices")
        ordering = ["-issued_on", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["region_code", "year", "sequence"], name="notice_number_per_region_year"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["issued", "delivered", "acknowledged"]),
                name="one_current_notice_per_case",
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="notice_state_deadline")]
        permissions = [
            ("deliver_notice", _("Can record the delivery of a notice")),
            ("acknowledge_notice", _("Can acknowledge a notice for the unit")),
        ]

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source=NoticeState.DRAFT, target=NoticeState.ISSUED)
    def issue(self) -> None:
        """Fixed and sent: from here on the snapshot is the legal text."""

    @transition(field=state, source=NoticeState.ISSUED, target=NoticeState.DELIVERED)
    def deliver(self, *, channel: str, delivered_on, deadline, note: str = "", proof=None) -> None:
        """Delivered to the unit (portal inbox, e-mail, SMS or post): the time limit starts."""
        if proof is not None:
            self.delivery_proof = proof
        self.delivery_channel = channel
        self.delivered_on = delivered_on
        self.deadline = deadline
        self.delivery_note = note

    @transition(field=state, source=NoticeState.DELIVERED, target=NoticeState.ACKNOWLEDGED)
    def acknowledge(self, *, at, by: str) -> None:
        """The unit confirmed receipt."""
        self.acknowledged_at = at
        self.acknowledged_by = by

    @transition(
        field=state,
        source=[NoticeState.ISSUED, NoticeState.DELIVERED, NoticeState.ACKNOWLEDGED],
        target=NoticeState.SUPERSEDED,
    )
    def supersede(self) -> None:
        """A new notice replaces this one (reissue after an overdue or a breach)."""


# --- contacts, notifications, reminders ------------------------------------------------------


class UnitContact(models.Model):
    """Where a unit receives notices and reminders besides its portal inbox."""

    unit = models.OneToOneField(
        "units.Unit", on_delete=models.CASCADE, related_name="contact", verbose_name=_("unit")
    )
    person = models.CharField(_("contact person"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(
        _("mobile number"),
        max_length=11,
        blank=True,
        validators=[
            RegexValidator(r"^1[3-9]\d{9}$", _("A mainland mobile number has 11 digits, 1[3-9]…"))
        ],
    )
    postal_address = models.CharField(_("postal address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("unit contact")
        verbose_name_plural = _("unit contacts")

    def __str__(self) -> str:
        return str(self.unit)


class Channel(models.TextChoices):
    PORTAL = "portal", _("portal inbox")
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")


class Department(models.TextChoices):
    COLLECTION = "collection", _("collection department")
    FINANCE = "finance", _("finance department")
    AUDIT = "audit", _("audit & supervision department")


class NotificationState(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Notification(ConcurrentTransitionMixin, models.Model):
    """One outbound message to one recipient through one channel.

    Created in the transaction of the action it reports, sent by a task after commit (or by the
    periodic sweep if the broker was away). The unique `dedupe_key` names the message itself
    ("this notice's delivery by e-mail"), so replaying a task or an action sends nothing twice.
    The row is its own record: attempts, last error, when it was sent and the text it carried.
    """

    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    kind = models.CharField(_("message"), max_length=40, db_index=True)
    channel = models.CharField(
        pgettext_lazy("message", "channel"), max_length=8, choices=Channel.choices
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("unit"),
    )
    department = models.CharField(
        _("department"), max_length=16, choices=Department.choices, blank=True
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("case"),
    )
    notice = models.ForeignKey(
        Notice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("notice"),
    )
    context = models.JSONField(_("content"), default=dict)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    state = FSMField(
        _("state"),
        max_length=8,
        choices=NotificationState.choices,
        default=NotificationState.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # "subject" is also the audit trail's word for what a row is about: a context keeps them apart.
    subject = models.CharField(pgettext_lazy("message", "subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["unit", "channel", "state"], name="notification_inbox"),
        ]
        permissions = [("retry_notification", _("Can retry a failed notification"))]

    def __str__(self) -> str:
        return f"{kind_label(self.kind)} #{self.pk}"

    @transition(field=state, source=NotificationState.PENDING, target=NotificationState.SENT)
    def mark_sent(self, *, at, subject: str, body: str) -> None:
        self.sent_at = at
        self.subject = subject
        self.body = body
        self.last_error = ""

    @transition(field=state, source=NotificationState.PENDING, target=NotificationState.FAILED)
    def give_up(self, *, error: str) -> None:
        """No more attempts: a permanent error, or the last attempt failed. Staff can retry."""
        self.last_error = error

    @transition(field=state, source=NotificationState.FAILED, target=NotificationState.PENDING)
    def retry(self, *, at) -> None:
        self.next_attempt_at = at
        self.enqueued_at = None


class ReminderRule(models.Model):
    """One kind of reminder, switched on or off and timed by staff (admin: "Reminder rules").

    `days` counts calendar days before the anchor date (a deadline, an installment's due date) for
    rules that warn, after it for rules that chase.
    """

    code = models.CharField(_("rule"), max_length=40, unique=True)
    enabled = models.BooleanField(_("on"), default=True)
    days = models.PositiveSmallIntegerField(_("days"))

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(RULE_LABELS.get(self.code, self.code))


# What each rule reminds of, in words: filled by notices/reminders.py, which declares the rules.
RULE_LABELS: dict = {}


class ReminderState(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("no longer needed")


class Reminder(models.Model):
    """A reminder due at a time: the periodic job turns it into notifications when it is due.

    `subject`/`subject_id` name what it is about (a notice, an installment, an arrival, …);
    `anchor` is the date the rule counts its days from, so editing a rule moves the reminders not
    yet sent. Never a Celery countdown: a row survives restarts and can be seen and cancelled.
    """

    rule = models.ForeignKey(
        ReminderRule, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("rule")
    )
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    subject = models.CharField(_("about"), max_length=32)
    subject_id = models.BigIntegerField(_("about id"))
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    anchor = models.DateField(_("counted from"))
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ReminderState.choices,
        default=ReminderState.SCHEDULED,
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="reminder_due"),
            # The scheduler's anti-join: has this subject its rule's reminder for this anchor?
            models.Index(fields=["subject", "subject_id", "rule"], name="reminder_subject"),
        ]

    def __str__(self) -> str:
        return f"{RULE_LABELS.get(self.rule.code, self.rule.code)} #{self.pk}"


class CalendarException(models.Model):
    """A day the State Council's schedule makes a holiday or a make-up working day (调休), kept by
    staff for the years the maintained calendar (`holidays`) does not know yet, or where it is
    wrong. Every deadline counts working days through `notices.deadlines`, which reads these
    first. Who changed what is in each row and in the admin's history."""

    day = models.DateField(_("day"), unique=True)
    working = models.BooleanField(
        _("working day"),
        help_text=_("Ticked: a make-up working day (a weekend worked). Not ticked: a holiday."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("The holiday, e.g. Spring Festival 2027.")
    )
    source = models.CharField(
        _("announcement"),
        max_length=200,
        blank=True,
        help_text=_("The General Office of the State Council's notice that announces it."),
    )
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holiday calendar")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}"
