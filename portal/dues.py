"""What a unit owes and must do next, for the portal's pages: each current notice with its
deadline (days left, or overdue and the late fee still running per day), each agreement's
installments paid, partly paid or due (with the date the money arrived), and the reason a
declared payment was not accepted. Reads only: every query starts from `portal.selectors`."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models.fields.json import KT
from django.urls import reverse

from kernel.money import DEFAULT_RATE_TABLE, round_fen
from notices.models import CURRENT_NOTICE_STATES, Notice
from portal import selectors
from replenish.models import (
    Agreement,
    AgreementState,
    ArrivalState,
    AuditEntry,
    CaseState,
    Installment,
)
from replenish.selectors import ZERO


def daily_rate(on: date) -> Decimal:
    return next(p.daily_rate for p in reversed(DEFAULT_RATE_TABLE) if p.starts_on <= on)


@dataclass
class Due:
    """One thing to pay: a notice or an agreement's next installment."""

    kind: str  # "notice" or "installment"
    reference: str  # the number to quote
    case_no: str
    amount: Decimal
    due_on: date | None
    today: date
    url: str
    declare_url: str
    notice: Notice | None = None
    installment: Installment | None = None

    @property
    def days_left(self) -> int | None:
        return None if self.due_on is None else (self.due_on - self.today).days

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < self.today

    @property
    def days_overdue(self) -> int:
        days_left = self.days_left
        return -days_left if self.overdue and days_left is not None else 0


@dataclass
class Owed:
    """The unit's debt today: totals, by case, and what accrues per day."""

    principal: Decimal = ZERO
    late_fee: Decimal = ZERO
    accruing: Decimal = ZERO  # principal the late fee still runs on
    by_case: dict = field(default_factory=dict)  # case_no -> {"principal", "late_fee", ...}
    rows: list = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee

    def fee_per_day(self, on: date) -> Decimal:
        return round_fen(self.accruing * daily_rate(on))

    def of_case(self, case_no: str) -> Decimal:
        case = self.by_case.get(case_no)
        return case["principal"] + case["late_fee"] if case else ZERO


def owed(member, today: date) -> Owed:
    result = Owed(rows=selectors.lines_owed(member, today))
    for row in result.rows:
        case = result.by_case.setdefault(
            row["case_no"], {"principal": ZERO, "late_fee": ZERO, "lines": 0}
        )
        case["principal"] += row["principal"]
        case["late_fee"] += row["late_fee"]
        case["lines"] += 1
        result.principal += row["principal"]
        result.late_fee += row["late_fee"]
        if row["accruing"]:
            result.accruing += row["principal"]
    return result


# A notice is what to pay only while its case is waiting for the money: under an agreement the
# installments are, and a case in write-off or closed owes nothing by the notice.
PAYABLE_CASE_STATES = (CaseState.NOTIFIED, CaseState.OVERDUE)


def current_notices(member):
    return selectors.notices(member).filter(
        state__in=CURRENT_NOTICE_STATES, case__state__in=PAYABLE_CASE_STATES
    )


@dataclass
class InstallmentRow:
    installment: Installment
    status: str  # "paid", "partly", "due", "overdue"
    paid: Decimal  # paid towards this installment
    paid_on: date | None  # when the money that completed it arrived

    @property
    def remaining(self) -> Decimal:
        return self.installment.amount - self.paid


# What `installment_rows` and `dues` read of an agreement and its case.
INSTALLMENT_ROW_FIELDS = (
    "number",
    "case_id",
    "paid_before",
    "signed_on",
    "case__case_no",
    "case__paid_total",
)


def installment_rows(agreements, today: date) -> dict[int, list[InstallmentRow]]:
    """Each agreement's installments with what is paid of each: the money paid on the case since
    signing pays them in order (as the daily run counts it), and the arrival that brought the
    total past an installment's cumulative amount dates it. Two queries for any number of
    agreements, none for none."""
    agreements = [a for a in agreements if a.signed_on]
    if not agreements:
        return {}
    by_agreement: dict[int, list[Installment]] = {}
    for installment in selectors.installments(a.pk for a in agreements):
        by_agreement.setdefault(installment.agreement_id, []).append(installment)
    arrivals: dict[int, list] = {}
    for arrival in (
        selectors.arrivals_of_cases([a.case_id for a in agreements])
        .filter(state=ArrivalState.POSTED)
        .order_by("arrived_on", "pk")
    ):
        if arrival.case_id is None:  # never: these are the arrivals of the agreements' cases
            continue
        arrivals.setdefault(arrival.case_id, []).append(arrival)
    result = {}
    for agreement in agreements:
        paid_before = agreement.paid_before or ZERO
        paid_since = max(agreement.case.paid_total - paid_before, ZERO)
        # The case's arrivals in order as running totals beyond what was paid before signing:
        # the day each total was reached.
        running, steps = -paid_before, []
        for arrival in arrivals.get(agreement.case_id, []):
            running += arrival.applied_amount
            steps.append((running, arrival.arrived_on))
        rows = []
        for installment in by_agreement.get(agreement.pk, []):
            before = installment.cumulative - installment.amount
            paid = min(max(paid_since - before, ZERO), installment.amount)
            if paid >= installment.amount:
                status = "paid"
                paid_on = next((on for total, on in steps if total >= installment.cumulative), None)
            else:
                paid_on = None
                status = (
                    "partly" if paid > 0 else ("overdue" if installment.due_on < today else "due")
                )
            rows.append(InstallmentRow(installment, status, paid, paid_on))
        result[agreement.pk] = rows
    return result


def dues(member, today: date, debt: Owed) -> list[Due]:
    """What the unit should pay now: its current notices (the case's debt today, by the
    deadline) and the next unpaid installment of each agreement in force, soonest first."""
    items = []
    # Only the columns shown, and of the snapshot only the rule of the deadline (what a notice
    # not yet delivered says of it): not the whole snapshot of every current notice.
    notices = (
        current_notices(member)
        .order_by("deadline", "pk")
        .only("number", "deadline", "state", "case__case_no", "case__state")
        .annotate(working_days=KT("snapshot__deadline_rule__working_days"))
    )
    for notice in notices:
        items.append(
            Due(
                kind="notice",
                reference=notice.number,
                case_no=notice.case.case_no,
                amount=debt.of_case(notice.case.case_no),
                due_on=notice.deadline,
                today=today,
                url=reverse("portal:notice", args=[notice.pk]),
                declare_url=f"{reverse('portal:declare')}?notice={notice.pk}",
                notice=notice,
            )
        )
    in_force = list(
        selectors.agreements(member)
        .filter(state=AgreementState.IN_FORCE)
        .select_related(None)
        .select_related("case")
        .only(*INSTALLMENT_ROW_FIELDS)
    )
    for agreement_id, rows in installment_rows(in_force, today).items():
        agreement = next(a for a in in_force if a.pk == agreement_id)
        row = next((r for r in rows if r.status != "paid"), None)
        if row is None:
            continue
        items.append(
            Due(
                kind="installment",
                reference=agreement.number,
                case_no=agreement.case.case_no,
                amount=row.remaining,
                due_on=row.installment.due_on,
                today=today,
                url=reverse("portal:agreement", args=[agreement.pk]),
                declare_url=f"{reverse('portal:declare')}?installment={row.installment.pk}",
                installment=row.installment,
            )
        )
    far = date.max
    return sorted(items, key=lambda d: (d.due_on or far, d.reference))


def rejection_reasons(payment_ids) -> dict[int, str]:
    """Why each rejected payment was not accepted: the reason of its audit row."""
    rows = AuditEntry.objects.filter(
        subject="payment", subject_id__in=list(payment_ids), to_state="rejected"
    ).only("subject_id", "reason", "reason_code", "reason_args")
    return {row.subject_id: row.reason_shown for row in rows}


def agreement_for_installment(member, installment_id: int) -> tuple[Agreement, Installment]:
    installment = Installment.objects.select_related("agreement").get(
        pk=installment_id, agreement__in=selectors.agreements(member)
    )
    return installment.agreement, installment
