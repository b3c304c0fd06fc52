"""The daily run's agreement steps: installments unpaid past the grace days breach the agreement
(the fee resumes from the day after the breached installment's due date); agreements paid in
full are fulfilled. Set-based: the same queries for a batch of 2 as of 6."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from operations.daily import DAILY_ACTOR
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    AuditEntry,
    MatchedBy,
)
from replenish.selectors import case_owed
from replenish.services.agreements import agreement_draft, agreement_sign, agreements_breach_due
from replenish.services.ledger import ledger_differences
from replenish.services.transitions import transition_apply
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    import_arrivals,
    import_rows,
    pay,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
SIGNED_ON = date(2026, 3, 1)
D = Decimal


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


def sign_for_units(officer, unit_nos, *, count=3) -> list[Agreement]:
    """For each unit: 1,000.00 due 2026-01-15 and 333.33 due 2026-02-15, signed on 2026-03-01
    in `count` installments (1,358.16 in 3: 452.72 each, due 04-01, 05-01, 06-01)."""
    rows = []
    for n in unit_nos:
        rows += [
            ArrearsRowFactory(unit_no=n, person_no=10 * n + 1),
            ArrearsRowFactory(
                unit_no=n,
                person_no=10 * n + 2,
                employer_amount="300.00",
                employee_amount="33.33",
                due_date="2026-02-15",
            ),
        ]
    import_rows(rows)
    agreements = []
    for case in ArrearsCase.objects.filter(state="registered").order_by("pk"):
        draft = agreement_draft(
            case_id=case.pk, installment_count=count, actor=officer, drafted_on=SIGNED_ON
        )
        agreements.append(agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=SIGNED_ON))
    return agreements


def run_daily(day: date) -> list[str]:
    out = io.StringIO()
    call_command("run_daily", "--date", day.isoformat(), stdout=out)
    return out.getvalue().splitlines()


def test_an_installment_unpaid_after_the_grace_days_breaches_the_agreement(officer):
    # given an agreement whose first installment (452.72) was due 2026-04-01 and never paid
    (agreement,) = sign_for_units(officer, [1])

    # when the daily run comes on the last grace day, then the day after
    last_grace_day = run_daily(date(2026, 4, 16))
    day_after = run_daily(date(2026, 4, 17))

    # then only the second run breaches it
    assert last_grace_day[1:3] == [
        "2026-04-16: 0 agreement(s) fulfilled",
        "2026-04-16: 0 agreement(s) breached (installment unpaid 15 days after its due date)",
    ]
    assert day_after[2] == (
        "2026-04-17: 1 agreement(s) breached (installment unpaid 15 days after its due date)"
    )
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.ended_on, agreement.breached_due_on) == (
        AgreementState.BREACHED,
        date(2026, 4, 17),
        date(2026, 4, 1),
    )
    assert ArrearsCase.objects.get().state == "overdue"
    assert list(
        AuditEntry.objects.filter(actor_label="system:run_daily")
        .order_by("id")
        .values_list("subject", "transition", "from_state", "to_state")
    ) == [
        ("agreement", "breach", "in_force", "breached"),
        ("case", "agreement_breach", "agreement", "overdue"),
    ]


def test_after_a_breach_the_fee_resumes_from_the_day_after_the_breached_due_date(officer):
    # given a breached agreement (first installment due 2026-04-01)
    (agreement,) = sign_for_units(officer, [1])
    run_daily(date(2026, 4, 17))

    # then the fee fixed at signing (24.83) plus, from 04-02 to 05-01 (30 days),
    # 1,000.00 x 0.0005 x 30 = 15.00 and 333.33 x 0.0005 x 30 = 4.99995 -> 5.00
    assert case_owed(agreement.case_id, as_of=date(2026, 4, 1)).late_fee == D("24.83")
    assert case_owed(agreement.case_id, as_of=date(2026, 5, 1)).late_fee == D("44.83")
    assert set(ArrearsLine.objects.values_list("fee_accrues_after", "fee_stops_on")) == {
        (date(2026, 4, 1), None)
    }
    assert ledger_differences() == []


def test_money_that_arrived_during_the_grace_days_ends_a_segment_on_its_arrival_date(officer):
    # given an agreement whose first installment (452.72, due 2026-04-01) is paid only 200.00,
    # on 2026-04-10, during the grace days: it pays the oldest line's fixed fee (22.50) and
    # 177.50 of its employee portion
    (agreement,) = sign_for_units(officer, [1])
    import_arrivals(
        [ArrivalRowFactory(unit_no=1, amount="200.00", arrived_on="2026-04-10")],
        today=date(2026, 4, 10),
    )
    run_daily(date(2026, 4, 10))
    oldest, newest = ArrearsLine.objects.order_by("due_date")

    # when the daily run finds the breach on 2026-04-17
    run_daily(date(2026, 4, 17))

    # then the oldest line's fee ran on 1,000.00 from 04-02 to 04-10 (9 days: 4.50, fixed as the
    # payment would have fixed it), then on 822.50 from 04-11; the newest line, which no money
    # reached, accrues from 04-02 on its 333.33, unrounded
    oldest.refresh_from_db()
    newest.refresh_from_db()
    assert (oldest.fee_unpaid, oldest.fee_accrues_after) == (D("4.50"), date(2026, 4, 10))
    assert (newest.fee_unpaid, newest.fee_accrues_after) == (D("2.33"), date(2026, 4, 1))
    # as of 05-01: 4.50 + 822.50 x 0.0005 x 21 = 8.63625 -> 13.14 (not 822.50 x 30 days from the
    # due date: 12.34), and 2.33 + 333.33 x 0.0005 x 30 = 4.99995 -> 7.33
    assert case_owed(agreement.case_id, as_of=date(2026, 5, 1)).late_fee == D("20.47")
    assert ledger_differences() == []


def test_paid_installments_do_not_breach_and_the_first_unpaid_one_does(officer):
    # given the first installment paid on 2026-03-20 (allocated oldest line first: its fee
    # 22.50, employee 200.00, employer 230.22, leaving 569.78 of its employer portion)
    (agreement,) = sign_for_units(officer, [1])
    pay(agreement.case_id, "452.72", on=date(2026, 3, 20))

    # when the daily run comes after the first and then after the second installment's grace
    first = run_daily(date(2026, 4, 17))
    second = run_daily(date(2026, 5, 17))

    # then only the second breaches, at its due date
    assert first[2].startswith("2026-04-17: 0 agreement(s) breached")
    assert second[2].startswith("2026-05-17: 1 agreement(s) breached")
    assert Agreement.objects.get().breached_due_on == date(2026, 5, 1)
    # and the fee resumes from 05-02 on the principal then unpaid: 30 days to 05-31 on 569.78
    # (8.5467 -> 8.55) and 333.33 (5.00), plus the 2.33 fixed at signing still unpaid
    owed = case_owed(agreement.case_id, as_of=date(2026, 5, 31))
    assert (owed.principal, owed.late_fee) == (D("903.11"), D("15.88"))


def test_an_agreement_paid_in_full_is_fulfilled_and_its_case_settled(officer):
    # given
    (agreement,) = sign_for_units(officer, [1])
    pay(agreement.case_id, "1358.16", on=date(2026, 3, 20))

    # when
    report = run_daily(date(2026, 3, 21))

    # then
    assert report[1] == "2026-03-21: 1 agreement(s) fulfilled"
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.ended_on) == (AgreementState.FULFILLED, date(2026, 3, 21))
    assert ArrearsCase.objects.get().state == "settled"
    # and nothing breaches later
    assert run_daily(date(2026, 12, 1))[2].startswith("2026-12-01: 0 agreement(s) breached")


def test_running_twice_for_the_same_date_breaches_nothing_more(officer):
    # given
    sign_for_units(officer, [1, 2])
    run_daily(date(2026, 4, 17))
    audits = AuditEntry.objects.count()

    # when
    again = run_daily(date(2026, 4, 17))

    # then
    assert again[2].startswith("2026-04-17: 0 agreement(s) breached")
    assert AuditEntry.objects.count() == audits


def test_the_grace_days_are_a_setting(officer, settings):
    # given no grace at all
    settings.INSTALLMENT_GRACE_DAYS = 0
    sign_for_units(officer, [1])

    # then the day after the due date breaches
    assert run_daily(date(2026, 4, 1))[2].startswith("2026-04-01: 0 agreement(s) breached")
    assert run_daily(date(2026, 4, 2))[2] == (
        "2026-04-02: 1 agreement(s) breached (installment unpaid 0 days after its due date)"
    )


def test_a_batch_of_six_breaches_with_the_same_queries_as_a_batch_of_two(officer):
    # given two units' agreements, then four more
    sign_for_units(officer, [1, 2])
    with CaptureQueriesContext(connection) as two:
        assert len(agreements_breach_due(as_of=date(2026, 4, 17), actor=DAILY_ACTOR)) == 2
    sign_for_units(officer, [3, 4, 5, 6])

    # when
    with CaptureQueriesContext(connection) as six:
        breached = agreements_breach_due(as_of=date(2026, 4, 17), actor=DAILY_ACTOR)

    # then
    assert len(breached) == 4
    assert len(six) == len(two)


def test_batches_cover_every_breached_agreement(officer):
    # given
    sign_for_units(officer, [1, 2, 3])

    # when in batches of two
    breached = agreements_breach_due(as_of=date(2026, 4, 17), actor=DAILY_ACTOR, batch_size=2)

    # then
    assert sorted(breached) == sorted(Agreement.objects.values_list("pk", flat=True))
    assert set(Agreement.objects.values_list("state", flat=True)) == {AgreementState.BREACHED}


def test_a_case_under_write_off_examination_is_neither_breached_nor_fulfilled(officer):
    # given an agreement whose case was sent to write-off examination
    (agreement,) = sign_for_units(officer, [1])
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=agreement.case_id)
        transition_apply(case, "writeoff_submit", actor=DAILY_ACTOR, reason="清算组申请核销")

    # when the daily run comes long after the first installment
    report = run_daily(date(2026, 6, 1))

    # then the agreement waits for the decision
    assert report[1:3] == [
        "2026-06-01: 0 agreement(s) fulfilled",
        "2026-06-01: 0 agreement(s) breached (installment unpaid 15 days after its due date)",
    ]
    assert Agreement.objects.get().state == AgreementState.IN_FORCE


def test_an_arrival_quoting_the_agreement_number_is_matched_to_its_case(officer):
    # given a signed agreement for unit 1 and another open case of the same unit's payer code
    (agreement,) = sign_for_units(officer, [1])
    import_rows([ArrearsRowFactory(unit_no=1, person_no=99, period="2026-02")])
    assert ArrearsCase.objects.filter(unit__uscc=sample_uscc(1)).count() == 2

    # when finance imports an arrival that quotes the agreement number
    result = import_arrivals(
        [ArrivalRowFactory(unit_no=1, reference=agreement.number, amount="452.72")],
        today=date(2026, 4, 1),
    )

    # then it is matched to the agreement's case by its reference, not left for finance
    arrival = Arrival.objects.get()
    assert (arrival.case_id, arrival.matched_by) == (agreement.case_id, MatchedBy.REFERENCE)
    assert result.unmatched == 0
