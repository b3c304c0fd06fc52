"""Money in (workflow step 3) and the adjustment of the arrears from it (step 5).

A *payment* is what a unit says it paid (recorded at the counter, later declared on the portal);
the collection department accepts it and asks finance to collect. An *arrival* (到账信息) is money
finance confirms has arrived, from a payment or from an arrivals file; only arrived money counts
(docs/rules.md). Matched to a case, an arrival is *posted* by the adjustment: applied to the case's
lines, and what is beyond the debt kept as the unit's credit.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import AppendOnly, money_field
from replenish.models.cases import ZERO
from replenish.models.reasoned import Reasoned


class PaymentChannel(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    ETAX = "etax", _("e-tax bureau")
    BANK = "bank", _("bank")
    COUNTER = "counter", _("counter")


class PaymentVia(models.TextChoices):
    COUNTER = "counter", _("recorded by staff at the counter")
    PORTAL = "portal", _("declared by the unit on the portal")


class PaymentState(models.TextChoices):
    RECORDED = "recorded", _("recorded")
    ACCEPTED = "accepted", _("accepted, finance asked to collect")
    REJECTED = "rejected", _("not accepted")
    ARRIVED = "arrived", _("arrived")
    FAILED = "failed", _("failed to arrive")


class Payment(ConcurrentTransitionMixin, models.Model):
    """A payment a unit makes per its notice or agreement, as recorded or declared.

    It is a claim, not money: the case owes less only once finance confirms the arrival and the
    adjustment posts it.
    """

    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("case"),
    )
    payer = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="payments", verbose_name=_("payer")
    )
    amount = money_field(_("amount"))
    channel = models.CharField(_("channel"), max_length=8, choices=PaymentChannel.choices)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("notice or agreement number quoted"), max_length=64, blank=True)
    channel_ref = models.CharField(
        _("transaction number of the channel"), max_length=64, blank=True
    )
    via = models.CharField(_("recorded via"), max_length=8, choices=PaymentVia.choices)
    state = FSMField(
        _("state"),
        max_length=16,
        choices=PaymentState.choices,
        default=PaymentState.RECORDED,
        protected=True,
        db_index=True,
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    arrival = models.OneToOneField(
        "replenish.Arrival",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name=_("arrival"),
    )
    # A declaration's idempotency key: the portal form carries one, so a double tap or a retry
    # of the same form finds the payment it made instead of making another (unique below).
    declaration_key = models.CharField(_("declaration key"), max_length=64, blank=True)
    owed_when_declared = money_field(_("the case owed when declared"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-recorded_at", "-id"]
        permissions = [
            ("accept_payment", _("Can accept a payment and ask finance to collect it")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state=PaymentState.ARRIVED) | Q(arrival__isnull=False),
                name="payment_arrived_has_arrival",
            ),
            models.UniqueConstraint(
                fields=["declaration_key"],
                condition=~Q(declaration_key=""),
                name="payment_declared_once",
            ),
        ]
        indexes = [models.Index(fields=["case", "state"], name="payment_case_state")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.amount} ({self.paid_on})"

    @property
    def expected_overpayment(self):
        """What the unit said it paid beyond what the case owed when it declared (it confirmed
        it): kept as its credit once the money arrives."""
        if self.owed_when_declared is None or self.amount <= self.owed_when_declared:
            return None
        return self.amount - self.owed_when_declared

    @transition(
        field=state,
        source=PaymentState.RECORDED,
        target=PaymentState.ACCEPTED,
        permission="replenish.accept_payment",
    )
    def accept(self) -> None:
        """The collection department accepts it; finance is asked to collect (after commit)."""

    @transition(
        field=state,
        source=PaymentState.RECORDED,
        target=PaymentState.REJECTED,
        permission="replenish.accept_payment",
    )
    def reject(self) -> None:
        """Not accepted (wrong case, duplicate declaration, …); the reason is in the audit row."""

    @transition(
        field=state,
        source=PaymentState.ACCEPTED,
        target=PaymentState.ARRIVED,
        permission="replenish.confirm_arrival",
    )
    def arrive(self, arrival_id: int) -> None:
        """Finance confirms the money arrived: the arrival carries it into the ledger."""
        self.arrival_id = arrival_id

    @transition(
        field=state,
        source=[PaymentState.ACCEPTED, PaymentState.ARRIVED],
        target=PaymentState.FAILED,
        permission="replenish.confirm_arrival",
    )
    def fail(self) -> None:
        """The money never came, or its arrival was later found wrong and reversed."""


class ArrivalState(models.TextChoices):
    RECEIVED = "received", _("received")
    UNMATCHED = "unmatched", _("unmatched, waiting for finance")
    MATCHED = "matched", _("matched, waiting for the adjustment")
    POSTED = "posted", _("posted to the ledger")
    REVERSED = "reversed", _("reversed")


class MatchedBy(models.TextChoices):
    REFERENCE = "reference", _("by the reference quoted")
    PAYER = "payer", _("by the payer's single open case")
    HAND = "hand", _("by hand (finance)")
    PAYMENT = "payment", _("by the payment it confirms")


class ArrivalImport(models.Model):
    """One accepted arrivals file (docs/formats.md): the arrivals it brought point back to it."""

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    rows = models.PositiveIntegerField(_("rows in file"))
    received = models.PositiveIntegerField(_("arrivals received"), default=0)
    resent = models.PositiveIntegerField(_("already received (re-sent)"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    actor_label = models.CharField(_("by"), max_length=150)

    class Meta:
        verbose_name = _("arrivals import")
        verbose_name_plural = _("arrivals imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class Arrival(ConcurrentTransitionMixin, models.Model):
    """Arrival information (到账信息): money finance confirms has arrived.

    `arrival_ref` is the sender's unique reference and the idempotency key: its unique
    constraint (`arrival_ref_unique`; not `unique=True`, which adds a `_like` pattern index no
    query uses) makes a re-sent arrival a no-op. An arrival is never deleted; one found wrong is
    reversed by new ledger and credit entries.
    """

    arrival_ref = models.CharField(_("arrival reference"), max_length=64)
    arrived_on = models.DateField(_("arrived on"))
    amount = money_field(_("amount"))
    payer_uscc = models.CharField(_("payer's Unified Social Credit Code"), max_length=18)
    # The keys of an arrival are checked by the database a statement at a time (migration 0028,
    # as the lines'). Not indexed by payer: arrivals are found by the payer's code
    # (`arrival_payer`), never by the unit's row.
    payer = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrivals",
        verbose_name=_("payer"),
        db_index=False,
        db_constraint=False,
    )
    reference = models.CharField(_("reference quoted"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=PaymentChannel.choices)
    state = FSMField(
        _("state"),
        max_length=16,
        choices=ArrivalState.choices,
        default=ArrivalState.RECEIVED,
        protected=True,
        # No index of its own: `arrival_state_arrived` (state, arrived_on) serves every lookup
        # by state.
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrivals",
        verbose_name=_("case"),
        db_constraint=False,
    )
    matched_by = models.CharField(
        _("matched"), max_length=16, choices=MatchedBy.choices, blank=True
    )
    match_note = models.CharField(_("matching note"), max_length=255, blank=True)
    import_batch = models.ForeignKey(
        ArrivalImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrivals",
        verbose_name=_("arrivals import"),
        db_constraint=False,
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    applied_amount = money_field(_("applied to the case"), default=ZERO)
    credit_amount = money_field(_("kept as credit"), default=ZERO)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("arrival")
        verbose_name_plural = _("arrivals")
        ordering = ["-arrived_on", "-id"]
        permissions = [
            ("confirm_arrival", _("Can confirm that a payment arrived, or mark it failed")),
            ("match_arrival", _("Can match an unmatched arrival to a case by hand")),
            ("post_arrival", _("Can post arrivals to the ledger (adjustment)")),
            ("reverse_arrival", _("Can reverse an arrival found wrong")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["arrival_ref"], name="arrival_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="arrival_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state__in=[ArrivalState.MATCHED, ArrivalState.POSTED])
                | Q(case__isnull=False),
                name="arrival_matched_has_case",
            ),
            models.CheckConstraint(
                condition=Q(applied_amount__gte=0)
                & Q(credit_amount__gte=0)
                & (
                    ~Q(state=ArrivalState.POSTED)
                    # Rounded: SQLite keeps decimals as binary floats.
                    | Q(applied_amount=Round(models.F("amount") - models.F("credit_amount"), 2))
                ),
                name="arrival_posted_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "arrived_on"], name="arrival_state_arrived"),
            models.Index(fields=["payer_uscc"], name="arrival_payer"),
        ]

    def __str__(self) -> str:
        return self.arrival_ref

    def delete(self, *args, **kwargs):
        raise ValueError("Arrivals are never deleted; reverse one found wrong.")

    # Received arrivals are matched or queued at once by the import; the others come from finance.

    @transition(
        field=state,
        source=ArrivalState.RECEIVED,
        target=ArrivalState.MATCHED,
        permission="replenish.add_arrival",
    )
    def match(self) -> None:
        """Matched on receipt: by reference, by the payer's single open case, or by its payment."""

    @transition(
        field=state,
        source=ArrivalState.RECEIVED,
        target=ArrivalState.UNMATCHED,
        permission="replenish.add_arrival",
    )
    def queue(self) -> None:
        """No case found: it waits in finance's queue of unmatched arrivals, never dropped."""

    @transition(
        field=state,
        source=[ArrivalState.UNMATCHED, ArrivalState.MATCHED],
        target=ArrivalState.MATCHED,
        permission="replenish.match_arrival",
    )
    def match_by_hand(self, case_id: int, note: str = "") -> None:
        """Finance chooses the case (also to correct a match before it is posted)."""
        self.case_id = case_id
        self.matched_by = MatchedBy.HAND
        self.match_note = note[:255]

    @transition(
        field=state,
        source=ArrivalState.MATCHED,
        target=ArrivalState.POSTED,
        permission="replenish.post_arrival",
    )
    def post(self) -> None:
        """Applied to the case's ledger by the adjustment (the amounts are the posting's result)."""

    @transition(
        field=state,
        source=[ArrivalState.UNMATCHED, ArrivalState.MATCHED, ArrivalState.POSTED],
        target=ArrivalState.REVERSED,
        permission="replenish.reverse_arrival",
    )
    def reverse(self) -> None:
        """Found wrong: a posted arrival is undone by new ledger and credit entries."""


class CreditKind(models.TextChoices):
    OVERPAYMENT = "overpayment", _("overpayment kept")
    REVERSED = "reversed", _("overpayment reversed")
    OFFSET = "offset", _("offset against arrears")
    OFFSET_REVERSED = "offset_reversed", _("offset taken back")
    REFUND = "refund", _("refunded")
    # A correction lowered a debt already paid: what its arrivals paid beyond it (one entry per
    # arrival and correction, so an arrival may have one beside its overpayment).
    CORRECTED = "corrected", _("paid beyond a corrected debt")


# The kinds that take credit (negative amounts) and those that add it back.
CREDIT_TAKEN = (CreditKind.REVERSED, CreditKind.OFFSET, CreditKind.REFUND)


class CreditEntry(AppendOnly, Reasoned):
    """An append-only change of a unit's overpayment credit (docs/rules.md: never dropped).

    The arrears ledger is per line and never below zero, so money beyond a case's debt cannot
    live there: it is kept here, per unit, each entry pointing at the arrival it came from. The
    database refuses an UPDATE and a unit balance below zero (migration 0004); one overpayment and
    one reversal at most per arrival (unique constraint).
    """

    append_only_message = "Credit entries are append-only; post a reversal instead."

    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="credit_entries",
        verbose_name=_("unit"),
    )
    arrival = models.ForeignKey(
        Arrival,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("arrival"),
    )
    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    offset = models.ForeignKey(
        "replenish.CreditOffset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
        verbose_name=_("credit offset"),
    )
    # The line a correction took the money off (kind `corrected`): reversing the arrival then
    # takes this credit back instead of restoring the money to the line a second time.
    line = models.ForeignKey(
        "replenish.ArrearsLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("line"),
    )
    refund = models.OneToOneField(
        "replenish.CreditRefund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entry",
        verbose_name=_("credit refund"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CreditKind.choices)
    amount = money_field(_("amount"))
    effective_on = models.DateField(_("effective on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("by"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit (overpayments)")
        ordering = ["unit", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["arrival", "kind"],
                condition=Q(kind__in=[CreditKind.OVERPAYMENT, CreditKind.REVERSED]),
                name="credit_once_per_arrival",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=[
                            CreditKind.OVERPAYMENT,
                            CreditKind.OFFSET_REVERSED,
                            CreditKind.CORRECTED,
                        ]
                    )
                    & Q(amount__gt=0)
                )
                | (Q(kind__in=CREDIT_TAKEN) & Q(amount__lt=0)),
                name="credit_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[CreditKind.OVERPAYMENT, CreditKind.REVERSED])
                | Q(arrival__isnull=False),
                name="credit_arrival_has_arrival",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[CreditKind.OFFSET, CreditKind.OFFSET_REVERSED])
                | Q(offset__isnull=False),
                name="credit_offset_has_offset",
            ),
            models.CheckConstraint(
                condition=~Q(kind=CreditKind.REFUND) | Q(refund__isnull=False),
                name="credit_refund_has_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
