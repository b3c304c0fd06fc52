"""Reads: what a case owes as of a date, derived from its lines' cached ledger state.

The late fee is never stored day by day (docs/rules.md): it is computed per line by the pure money
rules, rounded per line and summed.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet

from kernel.money import LateFeePolicy, LineFeeState, line_fee_due
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    CaseState,
    CreditOffset,
)

ZERO = Decimal("0.00")
LINE_FEE_FIELDS = (
    "employer_unpaid",
    "employee_unpaid",
    "fee_unpaid",
    "fee_fixed_total",
    "employer_amount",
    "employee_amount",
    "fee_accrues_after",
    "fee_stops_on",
)


def late_fee_policy() -> LateFeePolicy:
    return LateFeePolicy(cap_at_principal=settings.LATE_FEE_CAP_AT_PRINCIPAL)


def line_fee_state(
    employer_unpaid: Decimal,
    employee_unpaid: Decimal,
    fee_unpaid: Decimal,
    fee_fixed_total: Decimal,
    employer_amount: Decimal,
    employee_amount: Decimal,
    fee_accrues_after: date,
    fee_stops_on: date | None,
) -> LineFeeState:
    """The money rules' view of a line, from its columns in LINE_FEE_FIELDS order."""
    return LineFeeState(
        principal_unpaid=employer_unpaid + employee_unpaid,
        fee_unpaid=fee_unpaid,
        fee_fixed_total=fee_fixed_total,
        assessed_principal=employer_amount + employee_amount,
        accrues_after=fee_accrues_after,
        stops_on=fee_stops_on,
    )


def line_late_fee(line: ArrearsLine, *, as_of: date) -> Decimal:
    state = line_fee_state(*(getattr(line, name) for name in LINE_FEE_FIELDS))
    return line_fee_due(state, as_of=as_of, policy=late_fee_policy())


@dataclass(frozen=True)
class Owed:
    principal: Decimal
    late_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee


def owed_by_case(case_ids: Iterable[int] | None, *, as_of: date) -> dict[int, Owed]:
    """Principal unpaid and late fee unpaid as of `as_of` for each case, in one streamed query.

    `None` means every case. Cases with nothing owed are absent from the result.
    """
    lines = ArrearsLine.objects.all()
    if case_ids is not None:
        lines = lines.filter(case_id__in=list(case_ids))
    rows = lines.exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0).values_list(
        "case_id", *LINE_FEE_FIELDS
    )
    return _sum_by_case(rows.order_by().iterator(chunk_size=5000), as_of=as_of)


def _sum_by_case(rows: Iterator[tuple], *, as_of: date) -> dict[int, Owed]:
    policy = late_fee_policy()
    principal: dict[int, Decimal] = {}
    fee: dict[int, Decimal] = {}
    for case_id, *columns in rows:
        state = line_fee_state(*columns)
        principal[case_id] = principal.get(case_id, ZERO) + state.principal_unpaid
        fee[case_id] = fee.get(case_id, ZERO) + line_fee_due(state, as_of=as_of, policy=policy)
    return {case_id: Owed(principal[case_id], fee[case_id]) for case_id in principal}


def case_owed(case_id: int, *, as_of: date) -> Owed:
    return owed_by_case([case_id], as_of=as_of).get(case_id, Owed(ZERO, ZERO))


def debt_by_period(case_ids: Iterable[int], *, as_of: date) -> list[dict]:
    """Unpaid principal by portion and late fee as of `as_of` (per line, rounded, summed), one
    row per contribution period; strings, so the result can be stored as JSON."""
    policy = late_fee_policy()
    rows: dict[str, dict] = defaultdict(
        lambda: {"persons": set(), "employer": ZERO, "employee": ZERO, "late_fee": ZERO}
    )
    lines = (
        ArrearsLine.objects.filter(case_id__in=list(case_ids))
        .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
        .values_list("period", "person_id", *LINE_FEE_FIELDS)
        .order_by()
    )
    for period, person_id, *columns in lines.iterator(chunk_size=5000):
        state = line_fee_state(*columns)
        row = rows[period]
        row["persons"].add(person_id)
        row["employer"] += columns[0]
        row["employee"] += columns[1]
        row["late_fee"] += line_fee_due(state, as_of=as_of, policy=policy)
    return [
        {
            "period": period,
            "persons": len(row["persons"]),
            "employer": str(row["employer"]),
            "employee": str(row["employee"]),
            "late_fee": str(row["late_fee"]),
            "total": str(row["employer"] + row["employee"] + row["late_fee"]),
        }
        for period, row in sorted(rows.items())
    ]


def unit_has_another_registered_case(case: ArrearsCase) -> bool:
    """Whether new arrears of the case's unit opened another registered case: a unit has one
    registered case at most, so this case cannot return to `registered`."""
    return (
        ArrearsCase.objects.filter(unit_id=case.unit_id, state=CaseState.REGISTERED)
        .exclude(pk=case.pk)
        .exists()
    )


# --- money posted in the order it arrived (issue 13, rule 3) ------------------------------------


def offsets_standing() -> QuerySet[CreditOffset]:
    """The credit offsets not wholly taken back: money of the unit's credit posted to a case on
    the offset's date, which an arrival dated before it must not follow."""
    standing: QuerySet[CreditOffset] = CreditOffset.objects.filter(reversed_amount__lt=F("amount"))
    return standing


def arrivals_posted_after(
    case_id: int | OuterRef, arrived_on: date | OuterRef
) -> QuerySet[Arrival]:
    """The arrivals already posted to the case that arrived after `arrived_on` (values, or
    `OuterRef`s of an outer query of arrivals)."""
    # The manager of a django-fsm-2 model is Any to mypy (the library declares its mixin a Model
    # when type checking, which hides the manager from django-stubs): the annotation says what
    # it is.
    posted: QuerySet[Arrival] = Arrival.objects.filter(
        case_id=case_id, state=ArrivalState.POSTED, arrived_on__gt=arrived_on
    )
    return posted


def offsets_standing_after(
    case_id: int | OuterRef, arrived_on: date | OuterRef
) -> QuerySet[CreditOffset]:
    """The standing credit offsets of the case dated after `arrived_on` (as above)."""
    # Keyword arguments: django-stubs checks a lookup's value against the field, not an OuterRef.
    later: dict[str, object] = {"case_id": case_id, "offset_on__gt": arrived_on}
    return offsets_standing().filter(**later)


def money_posted_after_each() -> tuple[Exists, Exists]:
    """For a query of arrivals, whether money dated after each one is already on its case: a
    posted arrival, and a standing credit offset. An arrival is posted only after neither (the
    adjustment takes such offsets back first)."""
    case_id, arrived_on = OuterRef("case_id"), OuterRef("arrived_on")
    return (
        Exists(arrivals_posted_after(case_id, arrived_on)),
        Exists(offsets_standing_after(case_id, arrived_on)),
    )
