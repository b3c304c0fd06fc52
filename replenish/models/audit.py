from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from replenish.labels import actor_display, state_label, subject_label, transition_label
from replenish.models.agreements import AgreementState
from replenish.models.cases import CaseState
from replenish.models.reasoned import Reasoned

# The transitions after which an agreement in force may be fulfilled though no money moved (the
# fulfilment check reads them since its mark, `agreements.agreements_fulfil_due`): its case back
# under it (a write-off examination withdrawn or refused, a reversal undone) or settled, the
# agreement in force again (reinstated when the money that had fulfilled it was taken back).
MAY_FULFIL_AN_AGREEMENT = models.Q(
    subject="case", to_state__in=[CaseState.AGREEMENT, CaseState.SETTLED]
) | models.Q(subject="agreement", to_state=AgreementState.IN_FORCE)


class AuditEntry(Reasoned):
    """One state change of a case or of something that belongs to it (a notice, an agreement).

    Written by the service that made the change, in the same transaction. `case` is empty only
    for a subject that belongs to no case yet (an arrival waiting to be matched); such rows are
    found by `subject` and `subject_id`.
    """

    # The keys of an entry are checked by the database a statement at a time (migration 0028,
    # as the lines'). No index of its own: `audit_case_at` (case, at) serves every lookup by case.
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("case"),
        db_index=False,
        db_constraint=False,
    )
    subject = models.CharField(_("subject"), max_length=32)
    subject_id = models.BigIntegerField(_("subject id"))
    transition = models.CharField(_("transition"), max_length=64)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32)
    # No index: nothing reads the trail by actor.
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
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["case", "at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="audit_case_at"),
            models.Index(fields=["subject", "subject_id"], name="audit_subject"),
            # The fulfilment check's transitions since its mark (a few a day, not the trail).
            models.Index(
                fields=["at", "case"],
                condition=MAY_FULFIL_AN_AGREEMENT,
                name="audit_may_fulfil_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{subject_label(self.subject)} {self.subject_id}: {self.transition_shown}"

    @property
    def transition_shown(self) -> str:
        return transition_label(self.subject, self.transition)

    @property
    def states_shown(self) -> str:
        before = state_label(self.subject, self.from_state)
        after = state_label(self.subject, self.to_state)
        return f"{before} → {after}" if before else after

    @property
    def actor_shown(self) -> str:
        return actor_display(self.actor_label, self.actor)
