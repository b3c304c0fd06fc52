"""Enforcement after the deadline (Social Insurance Law Art. 63; Administrative Enforcement Law
Ch. V): one dossier per overdue case, worked step by step by the collection department.

The dossier's own machine runs beside the case's: the case stays `overdue` while the dossier
works, and moves only through the existing services (money arrives and is posted, a deferred
agreement is signed, a write-off is posted). The dossier closes, with its reason, when the case
is settled, under agreement or written off, or the court's proceedings end.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field


class DossierState(models.TextChoices):
    OPENED = "opened", _("opened")
    DEMAND_ISSUED = "demand_issued", _("written demand issued")
    DEMAND_SERVED = "demand_served", _("written demand served")
    INQUIRY_SENT = "inquiry_sent", _("account inquiry sent")
    INQUIRY_ANSWERED = "inquiry_answered", _("account inquiry answered")
    TRANSFER_PROPOSED = "transfer_proposed", _("transfer request waiting for approval")
    TRANSFER_REQUESTED = "transfer_requested", _("transfer decision requested")
    TRANSFER_GRANTED = "transfer_granted", _("transfer decision granted")
    TRANSFER_NOTIFIED = "transfer_notified", _("transfer notice sent to the bank")
    TRANSFERRED = "transferred", _("premiums transferred")
    GUARANTEE_REQUIRED = "guarantee_required", _("guarantee required")
    GUARANTEE_LAPSED = "guarantee_lapsed", _("no guarantee given")
    DEFERRED = "deferred", _("deferred-payment agreement signed")
    COURT_PROPOSED = "court_proposed", _("court application waiting for approval")
    COURT_APPLIED = "court_applied", _("applied to the court")
    COURT_RULED = "court_ruled", _("court ruled enforcement")
    PROCEEDS_RECEIVED = "proceeds_received", _("auction proceeds received")
    CLOSED = "closed", _("closed")


OPEN_DOSSIER_STATES = tuple(s for s in DossierState.values if s != DossierState.CLOSED)
# Where a court application can be proposed from: after the demand, when the accounts could not
# pay, or when the unit gave no guarantee (Art. 63 para. 2).
COURT_SOURCES = (
    DossierState.DEMAND_SERVED,
    DossierState.INQUIRY_ANSWERED,
    DossierState.GUARANTEE_REQUIRED,
    DossierState.GUARANTEE_LAPSED,
)


class CloseReason(models.TextChoices):
    SETTLED = "settled", _("the case is settled")
    AGREEMENT = "agreement", _("the case is under an agreement")
    WRITTEN_OFF = "written_off", _("the case is written off")
    PROCEEDINGS_ENDED = "proceedings_ended", _("the court's proceedings ended")


class Dossier(ConcurrentTransitionMixin, models.Model):
    """The enforcement dossier (强制执行案卷) of one overdue case."""

    dossier_no = models.CharField(_("dossier number"), max_length=32, unique=True)
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("case"),
    )
    # The administrative decision being enforced: the case's replenishment notice, delivered.
    notice = models.ForeignKey(
        "notices.Notice", on_delete=models.PROTECT, related_name="+", verbose_name=_("notice")
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=DossierState.choices,
        default=DossierState.OPENED,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    opened_on = models.DateField(_("opened on"))
    opened_by = models.CharField(_("opened by"), max_length=150)

    # Deadlines, computed when the step that starts them happens (enforcement.deadlines).
    demand_deadline = models.DateField(_("demand: time to perform ends"), null=True, blank=True)
    reply_deadline = models.DateField(_("bank reply due"), null=True, blank=True)
    guarantee_deadline = models.DateField(_("guarantee due"), null=True, blank=True)
    court_window_opens = models.DateField(_("court application possible from"), null=True)
    court_window_closes = models.DateField(_("court application possible until"), null=True)

    # Four eyes: who proposed the pending transfer request or court application, and the state
    # it returns to when the second collection user refuses it.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_from = models.CharField(
        _("proposed from"), max_length=20, choices=DossierState.choices, blank=True
    )
    transfer_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer request approved by"),
    )
    court_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("court application approved by"),
    )

    transfer_amount = money_field(_("amount to transfer"), null=True, blank=True)
    decision_department = models.CharField(_("deciding department"), max_length=100, blank=True)
    transfer_decision_no = models.CharField(
        _("transfer decision number"), max_length=64, blank=True, db_index=True
    )
    transfer_decided_on = models.DateField(_("transfer decided on"), null=True, blank=True)

    court = models.CharField(_("court"), max_length=100, blank=True)
    court_uscc = models.CharField(_("court's credit code"), max_length=18, blank=True)
    court_case_no = models.CharField(
        _("court case number"), max_length=64, blank=True, db_index=True
    )
    ruled_on = models.DateField(_("ruled on"), null=True, blank=True)
    ruling = models.TextField(_("ruling"), blank=True)

    agreement = models.ForeignKey(
        "replenish.Agreement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deferred-payment agreement"),
    )
    money_arrival = models.ForeignKey(
        "replenish.Arrival",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enforcement money"),
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(
        _("why it closed"), max_length=20, choices=CloseReason.choices, blank=True
    )
    close_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        verbose_name = _("enforcement dossier")
        verbose_name_plural = _("enforcement dossiers")
        ordering = ["-opened_on", "-dossier_no"]
        permissions = [
            ("run_dossier", _("Can work an enforcement dossier")),
            ("approve_dossier", _("Can approve a transfer request or a court application")),
            ("confirm_enforcement_money", _("Can confirm money from enforcement")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(state="closed"),
                name="one_open_dossier_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(close_reason=""),
                name="closed_dossier_says_why",
            ),
            # The numbers money from enforcement quotes name one dossier each.
            models.UniqueConstraint(
                fields=["transfer_decision_no"],
                condition=~Q(transfer_decision_no=""),
                name="transfer_decision_no_unique",
            ),
            models.UniqueConstraint(
                fields=["court_case_no"],
                condition=~Q(court_case_no=""),
                name="court_case_no_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.dossier_no

    # The machine: transitions change fields only; enforcement.services does the rest.

    @transition(
        field=state,
        source=DossierState.OPENED,
        target=DossierState.DEMAND_ISSUED,
        permission="enforcement.run_dossier",
    )
    def demand_issue(self) -> None:
        """The written demand (催告书) is issued (Administrative Enforcement Law Art. 35, 54)."""

    @transition(
        field=state,
        source=DossierState.DEMAND_ISSUED,
        target=DossierState.DEMAND_SERVED,
        permission="enforcement.run_dossier",
    )
    def demand_serve(self, *, deadline, window_opens, window_closes) -> None:
        """Served on the unit: ten working days to perform (Art. 37, 69)."""
        self.demand_deadline = deadline
        self.court_window_opens = window_opens
        self.court_window_closes = window_closes

    @transition(
        field=state,
        source=DossierState.DEMAND_SERVED,
        target=DossierState.INQUIRY_SENT,
        permission="enforcement.run_dossier",
    )
    def inquiry_send(self, *, reply_deadline) -> None:
        """The deposit-account inquiry is sent to the banks (Social Insurance Law Art. 63)."""
        self.reply_deadline = reply_deadline

    @transition(
        field=state,
        source=DossierState.INQUIRY_SENT,
        target=DossierState.INQUIRY_ANSWERED,
        permission="enforcement.run_dossier",
    )
    def inquiry_answer(self) -> None:
        """The banks replied: accounts and balances are recorded."""

    @transition(
        field=state,
        source=DossierState.INQUIRY_ANSWERED,
        target=DossierState.TRANSFER_PROPOSED,
        permission="enforcement.run_dossier",
    )
    def transfer_propose(self, *, by, amount) -> None:
        self.proposed_by = by
        self.proposed_from = DossierState.INQUIRY_ANSWERED
        self.transfer_amount = amount

    @transition(
        field=state,
        source=DossierState.TRANSFER_PROPOSED,
        target=DossierState.TRANSFER_REQUESTED,
        permission="enforcement.approve_dossier",
    )
    def transfer_approve(self, *, by, department: str) -> None:
        """A second collection user approves: the request goes to the department."""
        self.transfer_approved_by = by
        self.decision_department = department
        self.proposed_from = ""

    @transition(
        field=state,
        source=DossierState.TRANSFER_REQUESTED,
        target=DossierState.TRANSFER_GRANTED,
        permission="enforcement.run_dossier",
    )
    def transfer_grant(self, *, decision_no: str, decided_on) -> None:
        self.transfer_decision_no = decision_no
        self.transfer_decided_on = decided_on

    @transition(
        field=state,
        source=DossierState.TRANSFER_GRANTED,
        target=DossierState.TRANSFER_NOTIFIED,
        permission="enforcement.run_dossier",
    )
    def transfer_notify_bank(self) -> None:
        """The bank is notified in writing to transfer the premiums."""

    @transition(
        field=state,
        source=DossierState.TRANSFER_NOTIFIED,
        target=DossierState.TRANSFERRED,
        permission="enforcement.confirm_enforcement_money",
    )
    def transfer_confirm(self, *, arrival) -> None:
        """Finance confirms the transferred money arrived (quoting the decision number)."""
        self.money_arrival = arrival

    @transition(
        field=state,
        source=DossierState.INQUIRY_ANSWERED,
        target=DossierState.GUARANTEE_REQUIRED,
        permission="enforcement.run_dossier",
    )
    def guarantee_require(self) -> None:
        """The balance is short: the unit is required to give a guarantee (Art. 63 para. 2);
        its period runs from the requirement's service."""

    @transition(
        field=state, source=DossierState.GUARANTEE_REQUIRED, target=DossierState.GUARANTEE_LAPSED
    )
    def guarantee_lapse(self) -> None:
        """The time to give a guarantee passed without one (the daily run)."""

    @transition(
        field=state,
        source=[DossierState.GUARANTEE_REQUIRED, DossierState.GUARANTEE_LAPSED],
        target=DossierState.DEFERRED,
        permission="enforcement.run_dossier",
    )
    def deferred_sign(self, *, agreement) -> None:
        """A deferred-payment agreement (延期缴费协议) with its guarantee is signed."""
        self.agreement = agreement

    @transition(
        field=state,
        source=list(COURT_SOURCES),
        target=DossierState.COURT_PROPOSED,
        permission="enforcement.run_dossier",
    )
    def court_propose(self, *, by) -> None:
        self.proposed_by = by
        self.proposed_from = self.state

    @transition(
        field=state,
        source=DossierState.COURT_PROPOSED,
        target=DossierState.COURT_APPLIED,
        permission="enforcement.approve_dossier",
    )
    def court_approve(self, *, by, court: str, court_uscc: str) -> None:
        """A second collection user approves: the application goes to the court (Art. 53)."""
        self.court_approved_by = by
        self.court = court
        self.court_uscc = court_uscc
        self.proposed_from = ""

    @transition(
        field=state,
        source=DossierState.TRANSFER_PROPOSED,
        target=DossierState.INQUIRY_ANSWERED,
        permission="enforcement.approve_dossier",
    )
    def transfer_refuse(self) -> None:
        """The second collection user refuses the transfer request."""
        self.proposed_by = None
        self.proposed_from = ""
        self.transfer_amount = None

    @transition(
        field=state,
        source=DossierState.COURT_PROPOSED,
        target=RETURN_VALUE(*COURT_SOURCES),
        permission="enforcement.approve_dossier",
    )
    def court_refuse(self) -> str:
        """The second collection user refuses the court application: back to where it was
        proposed from."""
        previous = self.proposed_from
        self.proposed_by = None
        self.proposed_from = ""
        return previous

    @transition(
        field=state,
        source=DossierState.COURT_APPLIED,
        target=DossierState.COURT_RULED,
        permission="enforcement.run_dossier",
    )
    def court_rule(self, *, court_case_no: str, ruled_on, ruling: str) -> None:
        """The court ruled to enforce: seizure, sealing up and auction (Art. 63 para. 2)."""
        self.court_case_no = court_case_no
        self.ruled_on = ruled_on
        self.ruling = ruling

    @transition(
        field=state,
        source=DossierState.COURT_RULED,
        target=DossierState.PROCEEDS_RECEIVED,
        permission="enforcement.confirm_enforcement_money",
    )
    def proceeds_confirm(self, *, arrival) -> None:
        """Finance confirms the auction proceeds arrived (quoting the court case number)."""
        self.money_arrival = arrival

    @transition(field=state, source=list(OPEN_DOSSIER_STATES), target=DossierState.CLOSED)
    def close(self, *, on, reason_code: str, note: str = "") -> None:
        self.closed_on = on
        self.close_reason = reason_code
        self.close_note = note


class BankAccount(models.Model):
    """One deposit account of the unit, as a bank's reply to the inquiry gives it."""

    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("dossier")
    )
    bank = models.CharField(_("bank"), max_length=100)
    account_no = models.CharField(_("account number"), max_length=40)
    balance = money_field(_("balance"))
    balance_on = models.DateField(_("balance on"))
    replied_on = models.DateField(_("replied on"))

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["dossier", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "bank", "account_no"], name="bank_account_once_per_dossier"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="bank_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.bank} {self.account_no}"


class GuaranteeKind(models.TextChoices):
    GUARANTOR = "guarantor", _("guarantor (保证)")
    MORTGAGE = "mortgage", _("mortgage (抵押)")
    PLEDGE = "pledge", _("pledge (质押)")


class Guarantee(models.Model):
    """The guarantee a unit gave for its deferred-payment agreement (Art. 63 para. 2)."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, related_name="guarantee", verbose_name=_("dossier")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=GuaranteeKind.choices)
    guarantor = models.CharField(_("guarantor or property"), max_length=200)
    value = money_field(_("value"))
    description = models.TextField(_("description"), blank=True)
    given_on = models.DateField(_("given on"))

    class Meta:
        verbose_name = _("guarantee")
        verbose_name_plural = _("guarantees")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.guarantor}"


class FineReferral(models.Model):
    """A referral to the administrative department to impose the fine of one to three times
    the amount owed (Social Insurance Law Art. 86). The department decides; this records it."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, related_name="fine_referral", verbose_name=_("dossier")
    )
    referral_no = models.CharField(_("referral number"), max_length=32, unique=True)
    department = models.CharField(_("department referred to"), max_length=100)
    referred_on = models.DateField(_("referred on"))
    amount_owed = money_field(_("amount owed when referred"))
    referred_by = models.CharField(_("referred by"), max_length=150)

    class Meta:
        verbose_name = _("fine referral")
        verbose_name_plural = _("fine referrals")

    def __str__(self) -> str:
        return self.referral_no


class DocumentKind(models.TextChoices):
    DEMAND = "demand", _("written demand")
    INQUIRY = "inquiry", _("account inquiry letter")
    TRANSFER_REQUEST = "transfer_request", _("request for a transfer decision")
    TRANSFER_NOTICE = "transfer_notice", _("transfer notice to the bank")
    GUARANTEE = "guarantee", _("guarantee requirement")
    COURT_APPLICATION = "court_application", _("application for compulsory enforcement")
    FINE_REFERRAL = "fine_referral", _("fine referral")


# Number prefix of each kind of document: <prefix><region>-<year>-<sequence>.
DOCUMENT_PREFIX: dict[str, str] = {
    DocumentKind.DEMAND: "CG",
    DocumentKind.INQUIRY: "CX",
    DocumentKind.TRANSFER_REQUEST: "HS",
    DocumentKind.TRANSFER_NOTICE: "HT",
    DocumentKind.GUARANTEE: "DB",
    DocumentKind.COURT_APPLICATION: "QZ",
    DocumentKind.FINE_REFERRAL: "FK",
}


class ServiceChannel(models.TextChoices):
    """How a document was served (Administrative Enforcement Law Art. 38: as the Civil Procedure
    Law provides: in person, by post with a return receipt, electronically)."""

    HAND = "hand", _("in person")
    POST = "post", _("post")
    PORTAL = "portal", _("portal inbox")
    EMAIL = "email", _("e-mail")


class EnforcementDocument(models.Model):
    """One document of a dossier: numbered when issued, its content a snapshot fixed then (a
    legal text, never edited), its delivery recorded as a notice's is (date, channel, proof)."""

    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="documents", verbose_name=_("dossier")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    number = models.CharField(_("document number"), max_length=32, unique=True)
    addressee = models.CharField(_("addressed to"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    snapshot = models.JSONField(_("content"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_channel = models.CharField(
        _("delivered by"), max_length=8, choices=ServiceChannel.choices, blank=True
    )
    delivery_proof = models.FileField(
        _("proof of delivery"), upload_to="enforcement/delivery-proofs/%Y/", blank=True
    )
    delivery_note = models.CharField(_("delivery note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("enforcement document")
        verbose_name_plural = _("enforcement documents")
        ordering = ["dossier", "issued_on", "id"]

    def __str__(self) -> str:
        return self.number
