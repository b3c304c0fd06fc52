from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.fields import AppendOnly, money_field
from replenish.models.reasoned import Reasoned


class LedgerKind(models.TextChoices):
    ASSESSED = "assessed", _("principal assessed")
    LATE_FEE_FIXED = "late_fee_fixed", _("late fee fixed")
    PAYMENT_APPLIED = "payment_applied", _("payment applied")
    PAYMENT_REVERSED = "payment_reversed", _("payment reversed")
    WRITTEN_OFF = "written_off", _("written off")
    TRANSFERRED = "transferred", _("transferred")
    CORRECTION = "correction", _("correction")


class LedgerEntry(AppendOnly, Reasoned):
    """An append-only change of what one line of a case owes, in its three portions.

    Amounts are signed: positive adds to the debt, negative takes from it. The database refuses an
    UPDATE of an entry and an entry that would take a line's balance of any portion below zero
    (triggers, migration 0002); corrections are new entries.
    """

    append_only_message = "Ledger entries are append-only; post a correction instead."

    # The keys of an entry are checked by the database a statement at a time, not a row at a
    # time (db_constraint=False; the triggers of migration 0028 refuse an entry whose case, line
    # or actor does not exist, and the deletion of any of those an entry refers to).
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("case"),
        db_constraint=False,
    )
    # No index of its own: the index `ledger_line_kind` (line, kind) serves every lookup by line.
    line = models.ForeignKey(
        "replenish.ArrearsLine",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("line"),
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LedgerKind.choices)
    employer = money_field(_("employer portion"), default=0)
    employee = money_field(_("employee portion"), default=0)
    late_fee = money_field(_("late fee"), default=0)
    effective_on = models.DateField(_("effective on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # No index: nothing reads the ledger by actor (deleting a user, which the entries PROTECT,
    # reads it once).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,
        db_constraint=False,
    )
    actor_label = models.CharField(_("by"), max_length=150)
    source = models.CharField(_("source"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["case", "id"]
        indexes = [models.Index(fields=["line", "kind"], name="ledger_line_kind")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(employer=0, employee=0, late_fee=0), name="ledger_entry_not_empty"
            ),
            models.CheckConstraint(
                condition=~Q(kind=LedgerKind.ASSESSED)
                | Q(employer__gte=0, employee__gte=0, late_fee=0),
                name="ledger_assessed_is_principal_increase",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LedgerKind.LATE_FEE_FIXED)
                | Q(employer=0, employee=0, late_fee__gt=0),
                name="ledger_fee_fixed_is_fee_increase",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[LedgerKind.PAYMENT_APPLIED, LedgerKind.WRITTEN_OFF])
                | Q(employer__lte=0, employee__lte=0, late_fee__lte=0),
                name="ledger_reductions_are_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LedgerKind.PAYMENT_REVERSED)
                | Q(employer__gte=0, employee__gte=0, late_fee__gte=0),
                name="ledger_reversals_are_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.employer}/{self.employee}/{self.late_fee}"
