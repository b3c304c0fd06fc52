"""What posting arrivals does to a case's lines, worked out in memory before anything is written.

For each arrival, in the order the money arrived: the late fee of the case's lines is fixed
through the arrival date (`lines_fee_plan`, the in-memory half of `lines_fee_fix`), then the money
is allocated by `kernel.money.allocate_payment` (DESIGN.md: lines oldest due first; within a
line late fee, then the employee portion, then the employer portion) and what is left is the
unit's credit. Planning a whole batch first lets the adjustment run write it with a fixed number
of statements; the import's preview uses the same plan to show what would be posted.

Arrivals are planned in arrival-date order within a batch. One posted later than an arrival with
a later date finds the fee already fixed past its own date: the days in between stay charged on
the principal before it (a fen-level overcharge the collection department can correct); the
daily run posts in date order, so this only happens when money is confirmed late.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kernel.actors import Actor
from kernel.money import Allocation, LineDue, allocate_payment
from replenish.models import ArrearsLine, Arrival, LedgerKind
from replenish.services.ledger import Posting, lines_fee_plan

ZERO = Decimal("0.00")


def arrival_source(arrival_id: int) -> str:
    """The `source` of every ledger entry an arrival causes: its posting and its reversal."""
    return f"arrival:{arrival_id}"


@dataclass
class ArrivalPlan:
    arrival_id: int
    case_id: int
    applied: Decimal
    credit: Decimal
    allocation: Allocation


@dataclass
class BatchPlan:
    arrivals: list[ArrivalPlan] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    moved_lines: list[ArrearsLine] = field(default_factory=list)
    cleared_case_ids: set[int] = field(default_factory=set)


def _case_of(arrival: Arrival) -> int:
    """The case of a matched arrival (only matched arrivals are planned)."""
    if arrival.case_id is None:
        raise ValueError(f"arrival {arrival.arrival_ref} is not matched to a case")
    return arrival.case_id


def _owes(line: ArrearsLine) -> bool:
    return bool(line.employer_unpaid or line.employee_unpaid or line.fee_unpaid)


def arrivals_plan(lines: Sequence[ArrearsLine], arrivals: Sequence[Arrival]) -> BatchPlan:
    """Plan the posting of matched `arrivals` onto `lines` (every line of their cases that owes
    anything). The line objects are changed in place to what the ledger will say afterwards."""
    by_case: dict[int, list[ArrearsLine]] = defaultdict(list)
    for line in lines:
        by_case[line.case_id].append(line)
    accrual_starts = {line.pk: line.fee_accrues_after for line in lines}
    plan = BatchPlan()
    for arrival in sorted(arrivals, key=lambda a: (a.case_id, a.arrived_on, a.pk)):
        case_id = _case_of(arrival)
        case_lines = by_case[case_id]
        source = arrival_source(arrival.pk)
        reason = f"arrival {arrival.arrival_ref}"
        plan.postings += lines_fee_plan(
            case_lines, on=arrival.arrived_on, source=source, reason=reason
        )
        dues = [
            LineDue(
                line_id=line.pk,
                due_date=line.due_date,
                late_fee=line.fee_unpaid,
                employee=line.employee_unpaid,
                employer=line.employer_unpaid,
            )
            for line in case_lines
            if _owes(line)
        ]
        allocation = allocate_payment(arrival.amount, dues)
        lines_by_id = {line.pk: line for line in case_lines}
        for paid in allocation.lines:
            line = lines_by_id[paid.line_id]
            line.fee_unpaid -= paid.late_fee
            line.employee_unpaid -= paid.employee
            line.employer_unpaid -= paid.employer
            plan.postings.append(
                Posting(
                    case_id=case_id,
                    line_id=line.pk,
                    kind=LedgerKind.PAYMENT_APPLIED,
                    effective_on=arrival.arrived_on,
                    source=source,
                    employer=-paid.employer,
                    employee=-paid.employee,
                    late_fee=-paid.late_fee,
                    reason=reason,
                )
            )
        plan.arrivals.append(
            ArrivalPlan(
                arrival_id=arrival.pk,
                case_id=case_id,
                applied=allocation.applied,
                credit=allocation.credit,
                allocation=allocation,
            )
        )
    plan.moved_lines = [line for line in lines if line.fee_accrues_after != accrual_starts[line.pk]]
    plan.cleared_case_ids = {
        _case_of(arrival)
        for arrival in arrivals
        if not any(_owes(line) for line in by_case[_case_of(arrival)])
    }
    return plan


# --- seam: agreement installments --------------------------------------------------------------


def installments_allocate(plan: BatchPlan, *, actor: Actor) -> None:
    """SEAM for the agreements branch: money applied to a case under a repayment agreement also
    pays its installments (oldest due first), and an agreement whose installments are all paid
    becomes fulfilled.

    Called by the posting, inside its transaction, after the ledger entries are written and
    before the cases are settled; `plan.arrivals` holds each arrival's case and amount applied
    (`allocation` line by line). Does nothing until agreements exist.
    """


def installments_unallocate(
    *, arrival_id: int, case_id: int, amount: Decimal, actor: Actor
) -> None:
    """SEAM for the agreements branch: the reversal of a posted arrival takes its money back off
    the installments it paid (an agreement fulfilled by it is in force again). Called inside the
    reversal's transaction, after the reversing ledger entries are written. Does nothing until
    agreements exist.
    """
