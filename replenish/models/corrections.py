"""Corrections of wrongly imported lines (issue 13, rule 4): recorded by one collection user,
taking effect when a second one approves them (four eyes)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field


class CorrectionState(models.TextChoices):
    RECORDED = "recorded", _("recorded")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("not approved")


class LineCorrection(ConcurrentTransitionMixin, models.Model):
    """The right employer and employee portions of an imported line (both 0: the line is
    cancelled), with why and the document that says so. Approving it posts `corrected` ledger
    entries; the imported amounts on the line stay as the file had them (a re-sent file is
    recognised), the ledger and the approved correction say what the line owes."""

    line = models.ForeignKey(
        "replenish.ArrearsLine",
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("arrears line"),
    )
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("case"),
    )
    state = FSMField(
        _("state"),
        max_length=16,
        choices=CorrectionState.choices,
        default=CorrectionState.RECORDED,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    employer_before = money_field(_("employer portion before"))
    employee_before = money_field(_("employee portion before"))
    employer_amount = money_field(_("corrected employer portion"))
    employee_amount = money_field(_("corrected employee portion"))
    reason = models.TextField(_("reason"))
    document_ref = models.CharField(_("document reference"), max_length=100)
    file_name = models.CharField(_("from file"), max_length=255, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_label = models.CharField(_("recorded by (name)"), max_length=150)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the decision"), blank=True)

    class Meta:
        verbose_name = _("line correction")
        verbose_name_plural = _("line corrections")
        ordering = ["-recorded_at", "-id"]
        permissions = [("correct_line", "Can record and approve corrections of imported lines")]
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=models.Q(state="recorded"),
                name="one_recorded_correction_per_line",
            ),
            models.CheckConstraint(
                condition=models.Q(employer_amount__gte=0, employee_amount__gte=0),
                name="correction_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @transition(
        field=state,
        source=CorrectionState.RECORDED,
        target=CorrectionState.APPROVED,
        permission="replenish.correct_line",
    )
    def approve(self, *, on, by) -> None:
        """A second collection user approved it: it takes effect."""
        self.decided_on = on
        self.decided_by = by

    @transition(
        field=state,
        source=CorrectionState.RECORDED,
        target=CorrectionState.REJECTED,
        permission="replenish.correct_line",
    )
    def reject(self, *, on, by, why: str) -> None:
        """A second collection user found it wrong: nothing changes."""
        self.decided_on = on
        self.decided_by = by
        self.decision_reason = why
