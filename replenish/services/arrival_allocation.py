"""What posting arrivals does to a case's lines, worked out in memory before anything is written.

For each arrival, in the order the money arrived, its money goes to the case's lines by
`kernel.money.allocate_payment` (docs/rules.md: lines oldest due first; within a line late fee, then
the employee portion, then the employer portion) and what is left is the unit's credit. The late
fee is fixed (rounded and posted, `late_fee_fixed`) through the arrival date only on the lines the
money reaches, just before it pays them (issue 13, rule 1): each line it reaches is owed its fixed
fee plus the fee accrued since, and a line it does not reach keeps accruing, unrounded, from where
it was. So a line's fee depends only on its own history of payments, not on how many arrivals
reached the other lines of its case nor on how they were batched, and an arrival writes about
two ledger rows per line it reaches, whatever the size of the case.

Planning a whole batch first lets the adjustment run write it with a fixed number of statements;
the import's preview uses the same plan to show what would be posted. Arrivals are planned in
arrival-date order; posting one dated before an arrival already posted to its case is refused
(`arrival_order_check`), so the plan never has to go back in time.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection

from kernel.money import Allocation, LateFeePolicy, LineDue, allocate_payment, fee_to_fix
from kernel.sql import ids_in
from replenish.models import ArrearsLine, Arrival, ArrivalState, LedgerKind
from replenish.reasons import Reason
from replenish.selectors import LINE_FEE_FIELDS, late_fee_policy, line_fee_state
from replenish.services.ledger import Posting

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


def _dues_at(
    lines: list[ArrearsLine], *, on: date, policy: LateFeePolicy
) -> Iterator[tuple[LineDue, Decimal]]:
    """What each line that still owes is owed on `on`, in allocation order, with the fee that
    would be fixed on it; computed line by line as the allocation asks for the next one."""
    for line in lines:
        if not _owes(line):
            continue
        state = line_fee_state(*(getattr(line, name) for name in LINE_FEE_FIELDS))
        fixed = fee_to_fix(state, as_of=on, policy=policy)
        yield (
            LineDue(
                line_id=line.pk,
                due_date=line.due_date,
                late_fee=line.fee_unpaid + fixed,
                employee=line.employee_unpaid,
                employer=line.employer_unpaid,
            ),
            fixed,
        )


def _allocate(
    amount: Decimal, lines: list[ArrearsLine], *, on: date, policy: LateFeePolicy
) -> tuple[Allocation, dict[int, Decimal]]:
    """`allocate_payment` over the lines the money reaches: the dues are worked out only until
    the money runs out (the lines are in allocation order already), so the work follows the
    lines the money reaches, not the size of the case."""
    remaining = amount
    reached: list[tuple[LineDue, Decimal]] = []
    for due, fixed in _dues_at(lines, on=on, policy=policy):
        reached.append((due, fixed))
        remaining -= due.late_fee + due.employee + due.employer
        if remaining <= 0:
            break
    allocation = allocate_payment(amount, [due for due, _fixed in reached])
    return allocation, {due.line_id: fixed for due, fixed in reached}


def lines_reachable(arrival_ids: Sequence[int]) -> list[int]:
    """The lines that the money of these matched arrivals can reach, in one query: a line of
    their case that owes anything, unless what the lines before it (in allocation order) owed
    without the fee accrued since it was last fixed already takes all of the case's money.

    A superset of the lines reached (the fee accrued since adds to what the lines before owe), so
    a 500-line case paid by one arrival locks and plans the lines its money reaches, not 500.
    """
    if not arrival_ids:
        return []
    arrivals, params = ids_in("id", arrival_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH money AS (
                SELECT case_id, SUM(amount) AS amount FROM {Arrival._meta.db_table}
                WHERE {arrivals} AND state = %s GROUP BY case_id
            ), owing AS (
                SELECT l.id, l.case_id,
                       COALESCE(SUM(l.employer_unpaid + l.employee_unpaid + l.fee_unpaid) OVER (
                           PARTITION BY l.case_id ORDER BY l.due_date, l.id
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                FROM {ArrearsLine._meta.db_table} l
                WHERE l.case_id IN (SELECT case_id FROM money)
                  AND NOT (l.employer_unpaid = 0 AND l.employee_unpaid = 0 AND l.fee_unpaid = 0)
            )
            SELECT owing.id FROM owing JOIN money ON money.case_id = owing.case_id
            WHERE ROUND(owing.before, 2) < money.amount
            ORDER BY owing.id
            """,
            [*params, ArrivalState.MATCHED],
        )
        return [row[0] for row in cursor.fetchall()]


def arrivals_plan(lines: Sequence[ArrearsLine], arrivals: Sequence[Arrival]) -> BatchPlan:
    """Plan the posting of matched `arrivals` onto `lines`: every line of their cases that owes
    anything, or at least every line their money can reach (`lines_reachable`). The line objects
    are changed in place to what the ledger will say afterwards. `cleared_case_ids` is exact
    when `lines` holds every line of the cases that owes anything."""
    policy = late_fee_policy()
    by_case: dict[int, list[ArrearsLine]] = defaultdict(list)
    for line in sorted(lines, key=lambda line: (line.due_date, line.pk)):
        by_case[line.case_id].append(line)
    accrual_starts = {line.pk: line.fee_accrues_after for line in lines}
    lines_by_id = {line.pk: line for line in lines}
    plan = BatchPlan()
    for arrival in sorted(arrivals, key=lambda a: (a.case_id, a.arrived_on, a.pk)):
        case_id = _case_of(arrival)
        case_lines = by_case[case_id]
        source = arrival_source(arrival.pk)
        reason = Reason("arrival", arrival=arrival.arrival_ref)
        allocation, fixed = _allocate(
            arrival.amount, case_lines, on=arrival.arrived_on, policy=policy
        )
        for paid in allocation.lines:
            line = lines_by_id[paid.line_id]
            if fixed[line.pk]:
                plan.postings.append(
                    Posting(
                        case_id=case_id,
                        line_id=line.pk,
                        kind=LedgerKind.LATE_FEE_FIXED,
                        effective_on=arrival.arrived_on,
                        source=source,
                        late_fee=fixed[line.pk],
                        reason=reason,
                    )
                )
                line.fee_unpaid += fixed[line.pk]
                line.fee_fixed_total += fixed[line.pk]
            if arrival.arrived_on > line.fee_accrues_after:
                line.fee_accrues_after = arrival.arrived_on
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
