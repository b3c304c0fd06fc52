from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from kernel.fields import money_field

ZERO = Decimal("0.00")


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("registered")
    NOTIFIED = "notified", _("notified")
    OVERDUE = "overdue", _("overdue")
    AGREEMENT = "agreement", _("under agreement")
    WRITEOFF = "writeoff", _("write-off under examination")
    SETTLED = "settled", _("settled")
    WRITTEN_OFF = "written_off", _("written off")
    TRANSFERRED = "transferred", _("transferred to successors")


OPEN_STATES = (
    CaseState.REGISTERED,
    CaseState.NOTIFIED,
    CaseState.OVERDUE,
    CaseState.AGREEMENT,
    CaseState.WRITEOFF,
)
CLOSED_STATES = (CaseState.SETTLED, CaseState.WRITTEN_OFF, CaseState.TRANSFERRED)
# States from which a write-off examination can start, and to which a rejection returns the case.
WRITEOFF_RETURN_STATES = (
    CaseState.REGISTERED,
    CaseState.NOTIFIED,
    CaseState.OVERDUE,
    CaseState.AGREEMENT,
)


class ImportBatch(models.Model):
    """One accepted arrears file: the ledger's assessed entries point back to it."""

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    rows = models.PositiveIntegerField(_("rows in file"))
    lines_created = models.PositiveIntegerField(_("lines created"))
    lines_skipped = models.PositiveIntegerField(_("lines already imported"))
    cases_opened = models.PositiveIntegerField(_("cases opened"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    actor_label = models.CharField(_("by"), max_length=150)

    class Meta:
        verbose_name = _("arrears import")
        verbose_name_plural = _("arrears imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


# A successor that is an insured unit itself (`Counterparty.unit`) owes the cases it took over as
# it owes its own, and passes them all on again at its own succession event.
SUCCESSOR_KINDS = ("merging_party", "separated_party")


def owed_by_unit(unit_id: int) -> Q:
    """The cases insured unit `unit_id` owes: its own (owed by itself) and those it took over as
    a merging or separated party, however many successions back they began."""
    return Q(unit_id=unit_id) & (Q(obligor__isnull=True) | Q(obligor__kind="unit")) | Q(
        obligor__unit_id=unit_id, obligor__kind__in=SUCCESSOR_KINDS
    )


class ImportJobState(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("import job", "waiting for a worker")
    RUNNING = "running", pgettext_lazy("import job", "running")
    DONE = "done", pgettext_lazy("import job", "done")
    REJECTED = "rejected", pgettext_lazy("import job", "rejected")
    FAILED = "failed", pgettext_lazy("import job", "failed")


class ImportJob(models.Model):
    """An arrears file too large to read within a page request, previewed or imported by a
    worker (`replenish.services.import_jobs`): the page shows its progress, then its result.
    A preview job's import is rolled back; the import job of the same file follows its
    confirmation. The stored file is deleted when the import ends (a rejected file holds citizen
    ID numbers: it is not kept either)."""

    file_name = models.CharField(_("file name"), max_length=255)
    stored = models.CharField(_("stored as"), max_length=255)
    preview = models.BooleanField(_("preview"))
    state = models.CharField(
        _("state"), max_length=10, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    rows = models.PositiveIntegerField(_("rows in file"), default=0)
    lines_created = models.PositiveIntegerField(_("lines created"), default=0)
    lines_skipped = models.PositiveIntegerField(_("lines already imported"), default=0)
    cases_opened = models.PositiveIntegerField(_("cases opened"), default=0)
    units_created = models.PositiveIntegerField(_("units created"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)  # the file's row errors
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirms = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmed_by",
        verbose_name=_("confirms the preview"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("arrears file job")
        verbose_name_plural = _("arrears file jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


def _owes_nothing(case: models.Model) -> bool:
    """Everything the case owed has arrived (condition of `settle`)."""
    return isinstance(case, ArrearsCase) and case.principal_unpaid == 0 and case.fee_unpaid == 0


def _owes_again(case: models.Model) -> bool:
    """The settled case owes again (condition of `reopen`)."""
    return isinstance(case, ArrearsCase) and (case.principal_unpaid > 0 or case.fee_unpaid > 0)


class ArrearsCase(ConcurrentTransitionMixin, models.Model):
    """The arrears of one unit, worked through the replenishment workflow as one case.

    The money columns are a cache of the case's ledger (`check_ledger` recomputes them). The late
    fee that accrues day by day is derived, not cached: see `replenish.selectors.owed_by_case`.
    """

    # The number's uniqueness (`case_no_unique`) and the region's index (`case_region`) are
    # declared in Meta rather than by `unique=True`/`db_index=True`, which add on PostgreSQL a
    # `_like` pattern index each: no query uses them (nothing looks these up by their
    # beginning), and each state change would write them.
    case_no = models.CharField(_("case number"), max_length=20)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="cases", verbose_name=_("unit")
    )
    region_code = models.CharField(_("region code"), max_length=6)
    state = FSMField(
        _("state"),
        max_length=16,
        choices=CaseState.choices,
        default=CaseState.REGISTERED,
        protected=True,
        # No index of its own: `case_state_no` (state, case_no) serves every lookup by state.
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    state_before_writeoff = models.CharField(
        _("state before write-off"), max_length=16, choices=CaseState.choices, blank=True
    )
    opened_on = models.DateField(_("opened on"))
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who owes the case now, when not the unit itself: the merging party, a separated party (on a
    # successor's case), the liquidation group or the competent authority. The unit, the lines'
    # original unit and persons and `predecessor` keep the link back to the original debt.
    obligor = models.ForeignKey(
        "units.Counterparty",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("obligor"),
    )
    predecessor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor_cases",
        verbose_name=_("apportioned from"),
    )
    # The day before the court accepted the bankruptcy of whoever owes the case then: the unit
    # itself, or a successor that took the case over and went bankrupt later (企业破产法 art. 46).
    # The late fee of the case's lines never runs past it, whatever an agreement does.
    bankruptcy_fee_stop = models.DateField(
        _("late fee stops by bankruptcy after"), null=True, blank=True
    )

    principal_assessed = money_field(_("principal assessed"), default=ZERO)
    principal_unpaid = money_field(_("principal unpaid"), default=ZERO)
    fee_unpaid = money_field(_("fixed late fee unpaid"), default=ZERO)
    paid_total = money_field(_("paid"), default=ZERO)
    written_off_total = money_field(_("written off"), default=ZERO)
    transferred_total = money_field(_("transferred"), default=ZERO)

    class Meta:
        verbose_name = _("arrears case")
        verbose_name_plural = _("arrears cases")
        ordering = ["case_no"]
        permissions = [
            ("issue_notice", _("Can issue a replenishment notice")),
            ("sign_agreement", _("Can sign a repayment agreement")),
            ("examine_writeoff", _("Can examine a write-off application")),
            ("decide_writeoff", _("Can approve or reject a write-off")),
            ("transfer_case", _("Can apportion a case among successors")),
            ("view_full_id_number", _("Can see full citizen ID numbers")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case_no"], name="case_no_unique"),
            models.CheckConstraint(
                condition=Q(principal_unpaid__gte=0) & Q(fee_unpaid__gte=0),
                name="case_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(principal_unpaid__lte=F("principal_assessed")),
                name="case_unpaid_within_assessed",
            ),
            # New arrears of a unit join its one registered case (docs/formats.md); the
            # constraint keeps two concurrent imports from opening two. A successor's case of a
            # split (it has a predecessor) is never joined by an import.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(state="registered", predecessor__isnull=True),
                name="one_registered_case_per_unit",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "case_no"], name="case_state_no"),
            models.Index(fields=["region_code"], name="case_region"),
        ]

    def __str__(self) -> str:
        return self.case_no

    @property
    def debtor_unit_id(self) -> int | None:
        """The insured unit that owes the case now: the case's unit, a successor unit that took
        it over, or none (a liquidation group, a competent authority, a successor the agency does
        not know as a unit)."""
        obligor = self.obligor
        if obligor is None or obligor.kind == "unit":
            return self.unit_id
        return obligor.unit_id if obligor.kind in SUCCESSOR_KINDS else None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # The machine. Transitions only change fields; the services in replenish/services lock the row,
    # call them, save, write the audit row and schedule side effects.

    @transition(
        field=state,
        source=[CaseState.REGISTERED, CaseState.OVERDUE],
        target=CaseState.NOTIFIED,
        permission="replenish.issue_notice",
    )
    def issue_notice(self) -> None:
        """A notice ordering payment within a time limit (Art. 86); reissued after an overdue."""

    @transition(field=state, source=CaseState.NOTIFIED, target=CaseState.OVERDUE)
    def deadline_pass(self) -> None:
        """The notice's deadline passed with the debt unpaid."""

    @transition(
        field=state,
        source=[CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE],
        target=CaseState.AGREEMENT,
        permission="replenish.sign_agreement",
    )
    def agreement_take_effect(self) -> None:
        """A repayment agreement came into force."""

    @transition(field=state, source=CaseState.AGREEMENT, target=CaseState.OVERDUE)
    def agreement_breach(self) -> None:
        """An installment stayed unpaid past its due date and the grace days."""

    @transition(field=state, source=CaseState.AGREEMENT, target=CaseState.OVERDUE)
    def agreement_end(self) -> None:
        """The agreement in force ended without settling the case (terminated, e.g. because
        the unit merged or went bankrupt, or fulfilled while debt outside it remains): what is
        unpaid is due again."""

    @transition(
        field=state,
        source=[CaseState.NOTIFIED, CaseState.OVERDUE],
        target=CaseState.AGREEMENT,
    )
    def agreement_reinstate(self) -> None:
        """The arrival that fulfilled its agreement was reversed while debt outside the
        agreement was due again: the agreement is in force again, and the case under it."""

    @transition(
        field=state,
        source=list(WRITEOFF_RETURN_STATES),
        target=CaseState.WRITEOFF,
        permission="replenish.examine_writeoff",
    )
    def writeoff_submit(self) -> None:
        self.state_before_writeoff = self.state

    @transition(
        field=state,
        source=CaseState.WRITEOFF,
        target=RETURN_VALUE(*WRITEOFF_RETURN_STATES),
        permission="replenish.decide_writeoff",
    )
    def writeoff_reject(self, *, registered_taken: bool = False) -> str:
        """A rejected write-off returns the case to the state it came from; to overdue instead
        of registered when new arrears of the unit opened another registered case meanwhile
        (`registered_taken`: a unit has one registered case at most; a notice can be issued
        from overdue)."""
        return self._state_before_writeoff_restored(registered_taken)

    @transition(
        field=state, source=CaseState.WRITEOFF, target=RETURN_VALUE(*WRITEOFF_RETURN_STATES)
    )
    def writeoff_withdraw(self, *, registered_taken: bool = False) -> str:
        """A returned application was withdrawn: the case returns to the state it came from, as
        after a rejection. (The write-off service checks who may withdraw.)"""
        return self._state_before_writeoff_restored(registered_taken)

    def _state_before_writeoff_restored(self, registered_taken: bool) -> str:
        previous = self.state_before_writeoff
        self.state_before_writeoff = ""
        if previous == CaseState.REGISTERED and registered_taken:
            return CaseState.OVERDUE
        return previous

    @transition(
        field=state,
        source=CaseState.WRITEOFF,
        target=CaseState.WRITTEN_OFF,
        permission="replenish.decide_writeoff",
    )
    def writeoff_approve(self) -> None:
        self.state_before_writeoff = ""

    @transition(
        field=state,
        source=[
            CaseState.REGISTERED,
            CaseState.NOTIFIED,
            CaseState.OVERDUE,
            CaseState.AGREEMENT,
        ],
        target=CaseState.SETTLED,
        conditions=[_owes_nothing],
    )
    def settle(self) -> None:
        """Everything owed has arrived."""

    @transition(
        field=state,
        source=CaseState.SETTLED,
        target=RETURN_VALUE(
            CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE, CaseState.AGREEMENT
        ),
        conditions=[_owes_again],
    )
    def reopen(self, to_state: str) -> str:
        """A payment that settled the case was reversed: it owes again, in the state it was
        settled from (the service reads that from the audit trail)."""
        return to_state

    @transition(
        field=state,
        source=[
            CaseState.REGISTERED,
            CaseState.NOTIFIED,
            CaseState.OVERDUE,
            CaseState.AGREEMENT,
        ],
        target=CaseState.TRANSFERRED,
        permission="replenish.transfer_case",
    )
    def transfer(self) -> None:
        """Split among successors: each successor's case now owes its share."""


class ArrearsLine(models.Model):
    """One unpaid month of one insured person at one unit.

    The assessed amounts never change. The `*_unpaid`, `fee_*` columns are a cache of the line's
    ledger entries; `fee_accrues_after` and `fee_stops_on` say over which days the late fee runs now
    (docs/rules.md: it runs from the day after the due date, is fixed at each payment, stops at a
    bankruptcy acceptance or while an agreement is in force).
    """

    # The keys of a line are checked by the database a statement at a time, not a row at a time
    # (db_constraint=False; the triggers of migration 0028 refuse a line whose case, unit,
    # person, source line or import batch does not exist, and the deletion of any of those a
    # line refers to): an import of a million lines checks each key with one join.
    # No index of its own: the index `line_case_due` (case, due_date) serves every lookup by case.
    case = models.ForeignKey(
        ArrearsCase,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("case"),
        db_index=False,
        db_constraint=False,
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("original unit"),
        db_constraint=False,
    )
    person = models.ForeignKey(
        "units.InsuredPerson",
        on_delete=models.PROTECT,
        related_name="arrears_lines",
        verbose_name=_("insured person"),
        db_constraint=False,
    )
    period = models.CharField(_("period"), max_length=7)
    base = money_field(_("contribution base"))
    employer_amount = money_field(_("employer portion"))
    employee_amount = money_field(_("employee portion"))
    due_date = models.DateField(_("due date"))
    # Indexed only where set (`line_source`): imported lines have none.
    source_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor_lines",
        verbose_name=_("apportioned from"),
        db_index=False,
        db_constraint=False,
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        db_constraint=False,
    )

    employer_unpaid = money_field(_("employer portion unpaid"))
    employee_unpaid = money_field(_("employee portion unpaid"))
    fee_unpaid = money_field(_("fixed late fee unpaid"), default=ZERO)
    fee_fixed_total = money_field(_("late fee fixed"), default=ZERO)
    fee_accrues_after = models.DateField(_("late fee runs after"))
    fee_stops_on = models.DateField(_("late fee stops on"), null=True, blank=True)

    class Meta:
        verbose_name = _("arrears line")
        verbose_name_plural = _("arrears lines")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "period", "person"],
                condition=Q(source_line__isnull=True),
                name="line_unique_per_unit_period_person",
            ),
            models.CheckConstraint(
                condition=Q(base__gt=0)
                & Q(employer_amount__gte=0)
                & Q(employee_amount__gte=0)
                # A successor's line of a split may take over only a fixed late fee.
                & (
                    Q(employer_amount__gt=0)
                    | Q(employee_amount__gt=0)
                    | Q(source_line__isnull=False)
                ),
                name="line_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(employer_unpaid__gte=0)
                & Q(employee_unpaid__gte=0)
                & Q(fee_unpaid__gte=0),
                name="line_unpaid_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "due_date"], name="line_case_due"),
            models.Index(
                fields=["source_line"], condition=Q(source_line__isnull=False), name="line_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.person}"

    @property
    def principal_amount(self) -> Decimal:
        return self.employer_amount + self.employee_amount

    @property
    def principal_unpaid(self) -> Decimal:
        return self.employer_unpaid + self.employee_unpaid
