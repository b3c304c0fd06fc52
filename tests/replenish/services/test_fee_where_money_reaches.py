"""Issue 13, rule 1: an arrival fixes the late fee only of the lines its money reaches.

The property: for any lines and any arrivals, the late fee unpaid of each line as of any date is
what the pure money rule gives for that line's own history of payments (`own_history_fee`),
whatever arrivals reached the other lines and however the arrivals were batched into postings.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.money import LineFeeState, fix_fee, line_fee_due
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    LedgerEntry,
    LedgerKind,
)
from replenish.selectors import late_fee_policy, line_late_fee
from replenish.services.arrival import arrivals_post
from replenish.services.arrival_allocation import lines_reachable
from replenish.services.ledger import ledger_differences
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db

DUE = {
    "2025-09": "2025-10-15",
    "2025-10": "2025-11-15",
    "2025-11": "2025-12-15",
    "2025-12": "2026-01-15",
}
FIRST_DAY = date(2026, 1, 20)
TODAY = date(2026, 6, 30)


def own_history(line: ArrearsLine) -> LineFeeState:
    """The pure money rule on the line's own payments only: from the assessment (fee running
    from the due date), each payment that reached it fixes its fee through the arrival date, then
    takes off what it paid."""
    state = LineFeeState(
        principal_unpaid=line.employer_amount + line.employee_amount,
        fee_unpaid=D("0.00"),
        fee_fixed_total=D("0.00"),
        assessed_principal=line.employer_amount + line.employee_amount,
        accrues_after=line.due_date,
    )
    policy = late_fee_policy()
    for on, employer, employee, fee in (
        LedgerEntry.objects.filter(line=line, kind=LedgerKind.PAYMENT_APPLIED)
        .order_by("effective_on", "pk")
        .values_list("effective_on", "employer", "employee", "late_fee")
    ):
        state = fix_fee(state, on=on, policy=policy)
        state = replace(
            state,
            principal_unpaid=state.principal_unpaid + employer + employee,
            fee_unpaid=state.fee_unpaid + fee,
        )
    return state


def assert_each_line_follows_its_own_history(case_ids, dates):
    policy = late_fee_policy()
    for line in ArrearsLine.objects.filter(case_id__in=case_ids):
        expected = own_history(line)
        assert line.fee_unpaid == expected.fee_unpaid, line
        assert line.fee_fixed_total == expected.fee_fixed_total, line
        for as_of in dates:
            assert line_late_fee(line, as_of=as_of) == line_fee_due(
                expected, as_of=as_of, policy=policy
            ), (line, as_of)


def assert_arrivals_fix_only_lines_they_pay(case_ids):
    # money from an arrival or from the unit's credit (an offset)
    fixed = set(
        LedgerEntry.objects.filter(case_id__in=case_ids, kind=LedgerKind.LATE_FEE_FIXED)
        .filter(Q(source__startswith="arrival:") | Q(source__startswith="offset:"))
        .values_list("source", "line_id")
    )
    paid = set(
        LedgerEntry.objects.filter(
            case_id__in=case_ids, kind=LedgerKind.PAYMENT_APPLIED
        ).values_list("source", "line_id")
    )
    assert fixed <= paid


def line_figures(case_id):
    return [
        (
            line.period,
            line.employer_unpaid,
            line.employee_unpaid,
            line.fee_unpaid,
            line.fee_fixed_total,
            line.fee_accrues_after,
        )
        for line in ArrearsLine.objects.filter(case_id=case_id).order_by(
            "period", "person__id_number"
        )
    ]


lines = st.lists(
    st.tuples(
        st.sampled_from(sorted(DUE)),
        st.integers(1, 3),
        st.sampled_from(["800.00", "123.45", "0.00", "19.99", "1000.01"]),
        st.sampled_from(["200.00", "0.01", "37.50"]),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda row: (row[0], row[1]),
)
arrivals = st.lists(
    st.tuples(st.integers(0, 150), st.integers(1, 150_000).map(lambda fen: D(fen).scaleb(-2))),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(lines=lines, arrivals=arrivals, cuts=st.lists(st.booleans(), min_size=8, max_size=8))
def test_each_lines_fee_is_its_own_history_whatever_the_batching(lines, arrivals, cuts):
    with transaction.atomic():
        # given twin cases (units 1 and 2) of the same lines
        import_rows(
            [
                ArrearsRowFactory(
                    unit_no=unit,
                    person_no=person,
                    period=period,
                    due_date=DUE[period],
                    employer_amount=employer,
                    employee_amount=employee,
                )
                for unit in (1, 2)
                for period, person, employer, employee in lines
            ],
            today=FIRST_DAY,
        )
        cases = {
            unit: ArrearsCase.objects.get(unit__uscc=ArrearsRowFactory(unit_no=unit).unit_uscc).pk
            for unit in (1, 2)
        }
        money = sorted(arrivals)
        # when the money of case 1 is posted arrival by arrival as it arrives
        for days, amount in money:
            on = FIRST_DAY + timedelta(days=days)
            import_arrivals(
                [ArrivalRowFactory(unit_no=1, amount=str(amount), arrived_on=str(on))], today=on
            )
            arrivals_post(actor=SYSTEM, as_of=on)
        # and the same money of case 2 is posted in random batches
        import_arrivals(
            [
                ArrivalRowFactory(
                    unit_no=2, amount=str(amount), arrived_on=str(FIRST_DAY + timedelta(days=days))
                )
                for days, amount in money
            ],
            today=TODAY,
        )
        pending = list(
            Arrival.objects.filter(case_id=cases[2], state=ArrivalState.MATCHED)
            .order_by("arrived_on", "pk")
            .values_list("pk", flat=True)
        )
        batch: list[int] = []
        for pk, cut in zip(pending, cuts + [True] * len(pending), strict=False):
            batch.append(pk)
            if cut:
                arrivals_post(actor=SYSTEM, arrival_ids=batch)
                batch = []
        if batch:
            arrivals_post(actor=SYSTEM, arrival_ids=batch)

        # then every line's fee is the pure rule on its own payments, at any date
        dates = [FIRST_DAY, FIRST_DAY + timedelta(days=40), TODAY, TODAY + timedelta(days=400)]
        assert_each_line_follows_its_own_history(cases.values(), dates)
        assert_arrivals_fix_only_lines_they_pay(cases.values())
        # and the batching changed nothing
        assert line_figures(cases[1]) == line_figures(cases[2])
        assert ledger_differences() == []
        transaction.set_rollback(True)


def test_an_arrival_fixes_the_fee_of_the_lines_it_pays_and_of_no_other():
    # given three lines of 1,000.00 due 2025-11-15, 2025-12-15, 2026-01-15
    import_rows(
        [
            ArrearsRowFactory(period=period, due_date=DUE[period], person_no=1)
            for period in ("2025-10", "2025-11", "2025-12")
        ],
        today=FIRST_DAY,
    )
    oldest, middle, newest = ArrearsLine.objects.order_by("due_date")
    # when 1,100.00 arrives on 2026-03-01 (the oldest line owes 1,000.00 + 53.00 of fee: 106 days)
    import_arrivals([ArrivalRowFactory(amount="1100.00", arrived_on="2026-03-01")])
    arrivals_post(actor=SYSTEM)

    # then its fee is fixed and paid, the middle line gets the 47.00 left, and only those two
    entries = list(
        LedgerEntry.objects.filter(kind=LedgerKind.LATE_FEE_FIXED).values_list(
            "line_id", "late_fee"
        )
    )
    middle.refresh_from_db()
    newest.refresh_from_db()
    assert entries == [(oldest.pk, D("53.00")), (middle.pk, D("38.00"))]
    assert (middle.fee_unpaid, middle.employee_unpaid, middle.employer_unpaid) == (
        D("0.00"),
        D("191.00"),
        D("800.00"),
    )
    # the newest line was not touched: it still accrues from its due date, unrounded
    assert newest.fee_accrues_after == date(2026, 1, 15)
    assert (newest.fee_unpaid, newest.fee_fixed_total) == (D("0.00"), D("0.00"))
    assert line_late_fee(newest, as_of=date(2026, 3, 1)) == D("22.50")
    assert LedgerEntry.objects.filter(line=newest).count() == 1  # its assessment
    assert ledger_differences() == []


def test_the_posting_locks_and_plans_only_the_lines_the_money_can_reach():
    # given a case of 500 lines of 1,000.00 (one person a month for 500 persons) and a case of 10
    import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=n) for n in range(1, 501)]
        + [ArrearsRowFactory(unit_no=2, person_no=n) for n in range(1, 11)],
        today=FIRST_DAY,
    )
    import_arrivals(
        [
            ArrivalRowFactory(unit_no=unit, amount="1500.00", arrived_on="2026-03-01")
            for unit in (1, 2)
        ]
    )
    arrivals = list(Arrival.objects.order_by("pk").values_list("pk", flat=True))

    # when the lines each arrival's money can reach are looked up
    reach = [lines_reachable([pk]) for pk in arrivals]

    # then both reach the same two lines' worth, whatever the size of their case
    assert [len(lines) for lines in reach] == [2, 2]
    # and posting them writes the same rows for each: 2 lines paid, their fee fixed
    arrivals_post(actor=SYSTEM)
    rows = [LedgerEntry.objects.filter(source=f"arrival:{pk}").count() for pk in arrivals]
    assert rows == [4, 4]
    assert ledger_differences() == []
