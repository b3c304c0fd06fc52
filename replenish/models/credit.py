"""How a unit's overpayment credit is used: offset against its open arrears, or refunded.

Each use is a row here and a negative `CreditEntry` pointing at it, so the unit's credit balance
(the sum of its credit entries) stays explained entry by entry, and the database's refusal of a
negative balance (migration 0005) guards every use.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field


class CreditOffset(models.Model):
    """Credit that paid a case's arrears, allocated by the rules of an arrival (docs/rules.md); its
    ledger entries have the source `offset:<pk>`."""

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="credit_offsets",
        verbose_name=_("case"),
    )
    amount = money_field(_("amount"))
    offset_on = models.DateField(_("offset on"))
    automatic = models.BooleanField(_("by the adjustment"), default=False)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    actor_label = models.CharField(_("by"), max_length=150)
    reversed_amount = money_field(_("taken back by a reversal"), default=0)

    class Meta:
        verbose_name = _("credit offset")
        verbose_name_plural = _("credit offsets")
        ordering = ["-recorded_at", "-id"]
        permissions = [("offset_credit", _("Can offset a unit's credit against its arrears"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_offset_positive"),
            models.CheckConstraint(
                condition=Q(reversed_amount__gte=0, reversed_amount__lte=models.F("amount")),
                name="credit_offset_reversed_within",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.case_id}"


class RefundState(models.TextChoices):
    APPLIED = "applied", _("applied for")
    FIRST_APPROVED = "first_approved", _("approved once, waiting for a second approver")
    APPROVED = "approved", _("approved, to be paid out")
    PAID = "paid", _("paid out")
    REJECTED = "rejected", _("not approved")
    WITHDRAWN = "withdrawn", _("withdrawn")


FINAL_REFUND_STATES = (RefundState.PAID, RefundState.REJECTED, RefundState.WITHDRAWN)


class CreditRefund(ConcurrentTransitionMixin, models.Model):
    """A unit's application to have its credit paid back into an account; finance approves it
    (two different approvers above `CREDIT_REFUND_SECOND_APPROVAL_ABOVE`) and records the payment
    out. The credit is taken when the refund is approved, under the unit's row lock."""

    refund_no = models.CharField(_("refund number"), max_length=24, unique=True)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("unit")
    )
    amount = money_field(_("amount"))
    account_name = models.CharField(_("account name"), max_length=100)
    account_bank = models.CharField(_("bank"), max_length=100)
    account_no = models.CharField(_("account number"), max_length=40)
    note = models.CharField(_("note"), max_length=500, blank=True)
    state = FSMField(
        _("state"),
        max_length=16,
        choices=RefundState.choices,
        default=RefundState.APPLIED,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    applied_by = models.CharField(_("applied by"), max_length=150)
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
    paid_on = models.DateField(_("paid out on"), null=True, blank=True)
    payout_ref = models.CharField(_("payment-out reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("credit refund")
        verbose_name_plural = _("credit refunds")
        ordering = ["-applied_at", "-id"]
        permissions = [
            ("approve_refund", _("Can approve a refund of credit")),
            ("pay_refund", _("Can record a refund paid out")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_refund_positive"),
            models.CheckConstraint(
                condition=~Q(state=RefundState.PAID) | Q(paid_on__isnull=False),
                name="credit_refund_paid_has_date",
            ),
        ]
        indexes = [models.Index(fields=["unit", "state"], name="credit_refund_unit_state")]

    def __str__(self) -> str:
        return self.refund_no

    @transition(
        field=state,
        source=RefundState.APPLIED,
        target=RefundState.FIRST_APPROVED,
        permission="replenish.approve_refund",
    )
    def approve_first(self, by) -> None:
        """Above the threshold: a first approval; a different approver must approve again."""
        self.first_approver = by

    @transition(
        field=state,
        source=[RefundState.APPLIED, RefundState.FIRST_APPROVED],
        target=RefundState.APPROVED,
        permission="replenish.approve_refund",
    )
    def approve(self, by) -> None:
        """Approved: the credit is taken (a negative credit entry) and the money is to be paid."""
        self.approver = by

    @transition(
        field=state,
        source=[RefundState.APPLIED, RefundState.FIRST_APPROVED],
        target=RefundState.REJECTED,
        permission="replenish.approve_refund",
    )
    def reject(self) -> None:
        """Not approved (the reason is in the audit row); the credit stays the unit's."""

    @transition(field=state, source=RefundState.APPLIED, target=RefundState.WITHDRAWN)
    def withdraw(self) -> None:
        """The unit (or collection for it) no longer wants it, before any approval."""

    @transition(
        field=state,
        source=RefundState.APPROVED,
        target=RefundState.PAID,
        permission="replenish.pay_refund",
    )
    def pay(self, paid_on, payout_ref: str) -> None:
        """Finance paid the money out into the account."""
        self.paid_on = paid_on
        self.payout_ref = payout_ref
