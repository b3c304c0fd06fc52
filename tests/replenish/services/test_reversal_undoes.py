"""Issue 13, rule 3: reversing an arrival undoes everything it did, and money is posted in the
order it arrived (an arrival dated before money already posted to its case is refused)."""

import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replenish.departments import COLLECTION, FINANCE
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    CaseState,
)
from replenish.selectors import case_owed
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.arrival import arrival_match, arrival_post, arrival_reverse, arrivals_post
from replenish.services.credit import credit_offset
from replenish.services.ledger import ledger_differences
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    all_table_counts,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db
SIGNED_ON = date(2026, 3, 1)


def run_daily(day: date) -> None:
    call_command("run_daily", "--date", day.isoformat(), stdout=io.StringIO())


def arrive(ref: str, amount: str, on: date, unit_no: int = 1) -> Arrival:
    import_arrivals(
        [ArrivalRowFactory(arrival_ref=ref, amount=amount, arrived_on=str(on), unit_no=unit_no)],
        today=on,
    )
    return Arrival.objects.get(arrival_ref=ref)


@pytest.fixture
def agreement():
    """1,000.00 due 2026-01-15 and 333.33 due 2026-02-15, signed 2026-03-01 in one installment
    of 1,358.16 (fee 22.50 + 2.33 fixed at signing) due 2026-04-01."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=11),
            ArrearsRowFactory(
                unit_no=1,
                person_no=12,
                employer_amount="300.00",
                employee_amount="33.33",
                due_date="2026-02-15",
            ),
        ]
    )
    officer = UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)
    case = ArrearsCase.objects.get()
    draft = agreement_draft(
        case_id=case.pk, installment_count=1, actor=officer, drafted_on=SIGNED_ON
    )
    return agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=SIGNED_ON)


@pytest.fixture
def cashier():
    return department_user(FINANCE, "cashier")


def state_of(agreement: Agreement) -> tuple:
    agreement.refresh_from_db()
    case = ArrearsCase.objects.get(pk=agreement.case_id)
    return agreement.state, case.state


def test_reversing_the_arrival_that_fulfilled_an_agreement_puts_it_in_force_again(
    agreement, cashier
):
    # given the installment paid in full on 2026-03-20, posted and fulfilled by the daily run
    paid = arrive("PAID", "1358.16", date(2026, 3, 20))
    run_daily(date(2026, 3, 20))
    assert state_of(agreement) == (AgreementState.FULFILLED, CaseState.SETTLED)

    # when finance reverses it on 2026-03-25 (the installment's grace runs to 2026-04-16)
    arrival_reverse(arrival_id=paid.pk, reason="bounced", actor=cashier, on=date(2026, 3, 25))

    # then the agreement is in force again with the case under it, the installment unpaid, and
    # the fee stopped at the signing date again
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.AGREEMENT)
    assert agreement.ended_on is None
    assert set(ArrearsLine.objects.values_list("fee_stops_on", flat=True)) == {SIGNED_ON}
    assert case_owed(agreement.case_id, as_of=date(2026, 4, 16)).total == D("1358.16")
    # and the daily run breaches it once the grace days are over, as if never paid
    run_daily(date(2026, 4, 16))
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.AGREEMENT)
    run_daily(date(2026, 4, 17))
    assert state_of(agreement) == (AgreementState.BREACHED, CaseState.OVERDUE)
    assert ledger_differences() == []


def test_a_reversal_after_the_grace_days_breaches_the_agreement_at_once(agreement, cashier):
    # given the installment paid in full and fulfilled
    paid = arrive("PAID", "1358.16", date(2026, 3, 20))
    run_daily(date(2026, 3, 20))

    # when the reversal comes on 2026-04-20, after the installment's grace days
    arrival_reverse(arrival_id=paid.pk, reason="bounced", actor=cashier, on=date(2026, 4, 20))

    # then the agreement is breached at once and the fee resumed from 2026-04-02:
    # 24.83 + 1,000.00 x 0.0005 x 30 + 333.33 x 0.0005 x 30 (4.99995 -> 5.00) as of 05-01
    assert state_of(agreement) == (AgreementState.BREACHED, CaseState.OVERDUE)
    assert agreement.breached_due_on == date(2026, 4, 1)
    assert case_owed(agreement.case_id, as_of=date(2026, 5, 1)).late_fee == D("44.83")
    assert ledger_differences() == []


def test_reversing_the_arrival_that_settled_a_case_under_agreement_before_the_daily_run(
    agreement, cashier
):
    # given the installment paid and posted, the agreement not yet found fulfilled
    paid = arrive("PAID", "1358.16", date(2026, 3, 20))
    arrivals_post(actor=SYSTEM)
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.SETTLED)

    # when it is reversed
    arrival_reverse(arrival_id=paid.pk, reason="bounced", actor=cashier, on=date(2026, 3, 25))

    # then the case is under its agreement again, and the daily run does not fulfil it
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.AGREEMENT)
    run_daily(date(2026, 3, 26))
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.AGREEMENT)
    assert ledger_differences() == []


def test_an_arrival_dated_before_money_already_posted_to_its_case_is_refused():
    # given a case paid 100.00 arriving 2026-03-10, posted, and 50.00 of 2026-03-05 confirmed late
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    arrive("LATER", "100.00", date(2026, 3, 10))
    arrivals_post(actor=SYSTEM)
    earlier = arrive("EARLIER", "50.00", date(2026, 3, 5))
    before = all_table_counts()

    # when it is posted, then it is refused, saying what to do, and nothing changed
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        arrival_post(arrival_id=earlier.pk, actor=SYSTEM)
    assert "冲销" in str(refused.value) and "LATER" in str(refused.value)
    assert all_table_counts() == before
    # and the adjustment holds it (it stays matched) and says so
    out = io.StringIO()
    call_command("post_adjustments", "--date", "2026-03-31", stdout=out)
    assert "0 arrival(s) posted" in out.getvalue()
    assert "1 arrival(s) held" in out.getvalue()
    assert Arrival.objects.get(pk=earlier.pk).state == ArrivalState.MATCHED
    assert all_table_counts() == before


DUE = {"2025-10": "2025-11-15", "2025-11": "2025-12-15", "2025-12": "2026-01-15"}


def line_figures(case_id):
    return list(
        ArrearsLine.objects.filter(case_id=case_id)
        .order_by("due_date", "person__id_number")
        .values_list("employer_unpaid", "employee_unpaid", "fee_unpaid", "fee_accrues_after")
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    money=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 120_000).map(lambda f: D(f).scaleb(-2))),
        min_size=1,
        max_size=6,
    ),
    order=st.randoms(use_true_random=False),
)
def test_posting_in_any_order_is_refused_or_the_same_as_in_date_order(money, order):
    with transaction.atomic():
        # given twin cases of the same three lines, and the same money for each
        import_rows(
            [
                ArrearsRowFactory(unit_no=unit, person_no=1, period=period, due_date=due)
                for unit in (1, 2)
                for period, due in DUE.items()
            ]
        )
        start = date(2026, 3, 1)
        arrivals = {
            unit: [
                arrive(f"U{unit}-{i}", str(amount), start + timedelta(days=days), unit_no=unit)
                for i, (days, amount) in enumerate(money)
            ]
            for unit in (1, 2)
        }
        # when case 1's arrivals are posted one by one in a random order
        shuffled = list(arrivals[1])
        order.shuffle(shuffled)
        posted = []
        for arrival in shuffled:
            before = all_table_counts()
            try:
                arrival_post(arrival_id=arrival.pk, actor=SYSTEM)
            except ValidationError:
                # then a refusal is for money dated before money already posted, changing nothing
                assert any(p.arrived_on > arrival.arrived_on for p in posted)
                assert all_table_counts() == before
            else:
                assert all(p.arrived_on <= arrival.arrived_on for p in posted)
                posted.append(arrival)
        # and what was posted gives the figures of the same money posted in date order
        twins = [arrivals[2][arrivals[1].index(a)] for a in posted]
        for twin in sorted(twins, key=lambda a: (a.arrived_on, a.pk)):
            arrival_post(arrival_id=twin.pk, actor=SYSTEM)
        case_1, case_2 = (arrivals[unit][0].case_id for unit in (1, 2))
        assert line_figures(case_1) == line_figures(case_2)
        assert ledger_differences() == []
        transaction.set_rollback(True)


def test_taking_back_a_credit_offset_that_fulfilled_an_agreement_puts_it_in_force_again(
    agreement, cashier
):
    # given credit of unit 1 (an arrival of 2,000.00 for a later case owing 100.00) offset against
    # the case under agreement, which it settles, the daily run fulfilling the agreement
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1, person_no=13, employer_amount="80.00", employee_amount="20.00"
            )
        ],
        today=date(2026, 3, 5),
    )
    later = ArrearsCase.objects.exclude(pk=agreement.case_id).get()
    over = arrive("OVER", "2000.00", date(2026, 3, 10))
    arrival_match(arrival_id=over.pk, case_id=later.pk, actor=cashier)
    arrivals_post(actor=SYSTEM)
    credit_offset(
        unit_id=later.unit_id, actor=department_user(COLLECTION, "clerk"), on=date(2026, 3, 11)
    )
    run_daily(date(2026, 3, 11))
    assert state_of(agreement) == (AgreementState.FULFILLED, CaseState.SETTLED)

    # when finance reverses the arrival: the credit the offset used is taken back from the case
    arrival_reverse(arrival_id=over.pk, reason="bounced", actor=cashier, on=date(2026, 3, 20))

    # then the agreement the offset's money fulfilled is in force again, the case under it (found
    # by the ledger state machine: the case went back under a fulfilled agreement)
    assert state_of(agreement) == (AgreementState.IN_FORCE, CaseState.AGREEMENT)
    assert ledger_differences() == []
