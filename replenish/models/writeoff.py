"""Write-off (核销, workflow step 4): the liquidation group of a bankrupt unit applies to have what
the unit cannot pay forgiven; the collection department examines the application, the audit &
supervision department decides; the adjustment posts what was approved.
"""

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field
from kernel.uploads import unguessable_name
from units.models import DOCUMENT_EXTENSIONS


class WriteOffState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted, waiting for collection")
    RETURNED = "returned", _("returned for missing documents")
    ACCEPTED = "accepted", _("accepted, waiting for audit")
    FIRST_APPROVED = "first_approved", _("approved once, waiting for a second approver")
    APPROVED = "approved", _("approved, waiting for the adjustment")
    REJECTED = "rejected", _("rejected")
    POSTED = "posted", _("posted to the ledger")
    WITHDRAWN = "withdrawn", _("withdrawn")


OPEN_WRITEOFF_STATES = (
    WriteOffState.SUBMITTED,
    WriteOffState.RETURNED,
    WriteOffState.ACCEPTED,
    WriteOffState.FIRST_APPROVED,
    WriteOffState.APPROVED,
)


class WriteOffDocumentKind(models.TextChoices):
    BANKRUPTCY_RULING = "bankruptcy_ruling", _("court ruling declaring bankruptcy")
    LIQUIDATION_REPORT = "liquidation_report", _("liquidation report")
    DISTRIBUTION_PLAN = "distribution_plan", _("distribution plan")
    TERMINATION_RULING = "termination_ruling", _("court ruling terminating the proceedings")
    UNRECOVERABLE_SCHEDULE = (
        "unrecoverable_schedule",
        _("schedule of arrears that cannot be recovered"),
    )


class WriteOffApplication(ConcurrentTransitionMixin, models.Model):
    """One liquidation group's application to write off what one case still owes.

    `amount` (principal + late fee fixed up to the bankruptcy acceptance) is fixed when audit
    approves; the adjustment posts it as `written_off` ledger entries and closes the case.
    """

    writeoff_no = models.CharField(_("write-off number"), max_length=20, unique=True)
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="writeoffs",
        verbose_name=_("case"),
    )
    applicant = models.ForeignKey(
        "units.Counterparty",
        on_delete=models.PROTECT,
        related_name="writeoffs",
        verbose_name=_("applicant"),
    )
    state = FSMField(
        _("state"),
        max_length=16,
        choices=WriteOffState.choices,
        default=WriteOffState.SUBMITTED,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    submitted_by = models.CharField(_("submitted by"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    return_reason = models.TextField(_("reason returned"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first approver"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approver"),
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    principal = money_field(_("principal written off"), null=True, blank=True)
    late_fee = money_field(_("late fee written off"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("write-off application")
        verbose_name_plural = _("write-off applications")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One open application per case: the case is in `writeoff` while it is open.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(
                    state__in=["submitted", "returned", "accepted", "first_approved", "approved"]
                ),
                name="one_open_writeoff_per_case",
            )
        ]

    def __str__(self) -> str:
        return self.writeoff_no

    @property
    def amount(self):
        if self.principal is None:
            return None
        return self.principal + self.late_fee

    @transition(
        field=state,
        source=WriteOffState.SUBMITTED,
        target=WriteOffState.ACCEPTED,
        permission="replenish.examine_writeoff",
    )
    def accept(self) -> None:
        """Collection examined the documents: all five are there."""

    @transition(
        field=state,
        source=WriteOffState.SUBMITTED,
        target=WriteOffState.RETURNED,
        permission="replenish.examine_writeoff",
    )
    def return_for_documents(self) -> None:
        """Documents are missing: the liquidation group completes them and resubmits."""

    @transition(field=state, source=WriteOffState.RETURNED, target=WriteOffState.SUBMITTED)
    def resubmit(self) -> None:
        self.return_reason = ""

    @transition(field=state, source=WriteOffState.RETURNED, target=WriteOffState.WITHDRAWN)
    def withdraw(self) -> None:
        """The liquidation group (or collection for it) gives up a returned application: the
        case returns to the state it came from. (The service checks who may.)"""

    @transition(
        field=state,
        source=WriteOffState.ACCEPTED,
        target=WriteOffState.FIRST_APPROVED,
        permission="replenish.decide_writeoff",
    )
    def approve_first(self) -> None:
        """Above the dual-approval amount, a first approval waits for a second approver."""

    @transition(
        field=state,
        source=[WriteOffState.ACCEPTED, WriteOffState.FIRST_APPROVED],
        target=WriteOffState.APPROVED,
        permission="replenish.decide_writeoff",
    )
    def approve(self) -> None:
        """Approved: the amount is fixed; the adjustment posts it."""

    @transition(
        field=state,
        source=[WriteOffState.ACCEPTED, WriteOffState.FIRST_APPROVED],
        target=WriteOffState.REJECTED,
        permission="replenish.decide_writeoff",
    )
    def reject(self) -> None:
        """Rejected with a reason: the case returns to the state it came from."""

    @transition(field=state, source=WriteOffState.APPROVED, target=WriteOffState.POSTED)
    def post(self) -> None:
        """The adjustment posted the approved amount as `written_off` ledger entries."""


def writeoff_document_path(instance: "WriteOffDocument", filename: str) -> str:
    # Not the application's id and the kind: a stored name must not be guessable.
    return unguessable_name("writeoffs", filename)


class WriteOffDocument(models.Model):
    application = models.ForeignKey(
        WriteOffApplication,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("write-off application"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=WriteOffDocumentKind.choices)
    file = models.FileField(
        _("file"),
        upload_to=writeoff_document_path,
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS)],
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.CharField(_("uploaded by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("write-off document")
        verbose_name_plural = _("write-off documents")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()
