from decimal import Decimal

from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field
from kernel.uploads import unguessable_name
from units.models import DOCUMENT_EXTENSIONS, CounterpartyKind


class AgreementKind(models.TextChoices):
    INSTALLMENT = "installment", _("installment (with the unit itself)")
    MERGER = "merger", _("merger (with the merging party)")
    SPLIT = "split", _("split (with a separated party)")
    LIQUIDATION = "liquidation", _("liquidation (with the liquidation group)")
    AUCTION = "auction", _("auction (with the competent authority)")
    # Social Insurance Law Art. 63 para. 2: with the unit itself, against its guarantee, when its
    # accounts cannot pay what is owed (drafted from an enforcement dossier).
    DEFERRED = "deferred", _("deferred payment (with the unit, against a guarantee)")


# Who an agreement of each kind is signed with: the case's obligor decides the kind.
KIND_OF_COUNTERPARTY: dict[str, AgreementKind] = {
    CounterpartyKind.UNIT: AgreementKind.INSTALLMENT,
    CounterpartyKind.MERGING_PARTY: AgreementKind.MERGER,
    CounterpartyKind.SEPARATED_PARTY: AgreementKind.SPLIT,
    CounterpartyKind.LIQUIDATION_GROUP: AgreementKind.LIQUIDATION,
    CounterpartyKind.COMPETENT_AUTHORITY: AgreementKind.AUCTION,
}


class AgreementState(models.TextChoices):
    DRAFT = "draft", _("draft")
    IN_FORCE = "in_force", _("in force")
    FULFILLED = "fulfilled", _("fulfilled")
    BREACHED = "breached", _("breached")
    TERMINATED = "terminated", _("terminated")


LIVE_AGREEMENT_STATES = (AgreementState.DRAFT, AgreementState.IN_FORCE)


def scan_path(instance: "Agreement", filename: str) -> str:
    # Not the agreement's number: a stored name must not be guessable (kernel.uploads).
    return unguessable_name("agreements", filename)


class Agreement(ConcurrentTransitionMixin, models.Model):
    """A repayment agreement (补缴协议) or liquidation agreement (清算协议) about one case.

    Signing fixes what the case owes as of the signing date (principal unpaid plus the late fee to
    that date, posted to the ledger as fixed) and splits it into monthly installments; the late
    fee does not accrue while the agreement is in force. The amounts below are that snapshot.
    """

    number = models.CharField(_("agreement number"), max_length=32, unique=True)
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AgreementKind.choices)
    counterparty = models.ForeignKey(
        "units.Counterparty",
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("counterparty"),
    )
    state = FSMField(
        _("state"),
        max_length=16,
        choices=AgreementState.choices,
        default=AgreementState.DRAFT,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    installment_count = models.PositiveSmallIntegerField(_("number of installments"))
    drafted_on = models.DateField(_("drafted on"))
    note = models.TextField(_("note"), blank=True)

    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signatory = models.CharField(_("signed for the counterparty by"), max_length=100, blank=True)
    principal = money_field(_("principal fixed"), null=True, blank=True)
    late_fee = money_field(_("late fee fixed"), null=True, blank=True)
    total = money_field(_("total agreed"), null=True, blank=True)
    # The case's `paid_total` at signing: what is paid on the case beyond it pays installments.
    paid_before = money_field(_("paid before signing"), null=True, blank=True)
    # What the signed text lists, fixed at signing: the debt by period (see
    # `replenish.documents`). The agreement is a legal document: never edited.
    periods = models.JSONField(_("debt by period at signing"), default=list, blank=True)

    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    breached_due_on = models.DateField(_("breached installment due on"), null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)

    scan = models.FileField(
        _("signed scan"),
        upload_to=scan_path,
        blank=True,
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS)],
    )

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-drafted_on", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["draft", "in_force"]),
                name="one_live_agreement_per_case",
            ),
            models.CheckConstraint(
                condition=Q(installment_count__gte=1), name="agreement_has_installments"
            ),
            models.CheckConstraint(
                condition=Q(state="draft")
                | Q(state="terminated", signed_on__isnull=True)
                | Q(signed_on__isnull=False, total__gt=0, paid_before__isnull=False),
                name="agreement_signed_has_amounts",
            ),
        ]
        indexes = [models.Index(fields=["state", "case"], name="agreement_state_case")]

    def __str__(self) -> str:
        return self.number

    @property
    def title(self) -> str:
        if self.kind == AgreementKind.DEFERRED:
            return "社会保险费延期缴费协议"
        return "清算协议" if self.kind == AgreementKind.LIQUIDATION else "社会保险费补缴协议"

    @transition(
        field=state,
        source=AgreementState.DRAFT,
        target=AgreementState.IN_FORCE,
        permission="replenish.sign_agreement",
    )
    def sign(
        self,
        *,
        signed_on,
        signatory: str,
        principal: Decimal,
        late_fee: Decimal,
        paid_before: Decimal,
        periods: list,
    ) -> None:
        """Signed by both parties: the amounts are fixed as of the signing date."""
        self.periods = periods
        self.signed_on = signed_on
        self.signatory = signatory
        self.principal = principal
        self.late_fee = late_fee
        self.total = principal + late_fee
        self.paid_before = paid_before

    @transition(field=state, source=AgreementState.IN_FORCE, target=AgreementState.FULFILLED)
    def fulfil(self, *, on) -> None:
        """Every installment is paid (or nothing is owed any more)."""
        self.ended_on = on

    @transition(field=state, source=AgreementState.FULFILLED, target=AgreementState.IN_FORCE)
    def reinstate(self) -> None:
        """The arrival that paid its last installment was reversed: it is in force again."""
        self.ended_on = None

    @transition(field=state, source=AgreementState.IN_FORCE, target=AgreementState.BREACHED)
    def breach(self, *, on, breached_due_on) -> None:
        """An installment stayed unpaid past its due date and the grace days."""
        self.ended_on = on
        self.breached_due_on = breached_due_on

    @transition(
        field=state,
        source=[AgreementState.DRAFT, AgreementState.IN_FORCE],
        target=AgreementState.TERMINATED,
        permission="replenish.sign_agreement",
    )
    def terminate(self, *, on, why: str) -> None:
        """Withdrawn as a draft, or ended in force before it was fulfilled."""
        self.ended_on = on
        self.end_reason = why


class Installment(models.Model):
    """One installment of a signed agreement: equal amounts, the remainder on the last."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="installments",
        verbose_name=_("agreement"),
    )
    seq = models.PositiveSmallIntegerField(_("installment"))
    due_on = models.DateField(_("due on"))
    amount = money_field(_("amount"))
    # The sum of this and every earlier installment: paid once the payments since signing reach it.
    cumulative = money_field(_("cumulative amount"))

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["agreement", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "seq"], name="installment_seq_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
        ]
        indexes = [models.Index(fields=["due_on", "agreement"], name="installment_due")]

    def __str__(self) -> str:
        return f"{self.agreement.number} #{self.seq}"
