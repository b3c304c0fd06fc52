"""The adjustment: matched arrivals posted to the ledger (`arrivals_post`, `arrival_post`,
`adjustments_post`, `post_adjustments`, the daily run), by the allocation rules of docs/rules.md."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notices.services import case_issue_notice
from operations.daily import daily_run
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    CreditEntry,
    CreditKind,
    LedgerEntry,
    LedgerKind,
)
from replenish.selectors import case_owed
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import PostedArrival, arrival_post, arrivals_post
from replenish.services.ledger import ledger_differences
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    case_of,
    deliver,
    generated_rows,
    import_arrivals,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """Unit 1 owes one line of 800.00 employer + 200.00 employee, due 2026-01-15."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return case_of(sample_uscc(1))


def arrive(amount: str, on: str, *, ref: str, unit_no: int = 1, today: date | None = None):
    import_arrivals(
        [ArrivalRowFactory(arrival_ref=ref, amount=amount, arrived_on=on, unit_no=unit_no)],
        today=today or date.fromisoformat(on),
    )
    return Arrival.objects.get(arrival_ref=ref)


def entries(case_id: int) -> list[tuple]:
    return list(
        LedgerEntry.objects.filter(case_id=case_id)
        .exclude(kind=LedgerKind.ASSESSED)
        .order_by("id")
        .values_list("kind", "late_fee", "employee", "employer", "effective_on", "source")
    )


def test_the_fee_is_fixed_at_the_arrival_date_then_paid_before_the_employee_then_the_employer(
    case,
):
    # given 500.00 arrived on 2026-03-01, 45 days after the due date
    arrival = arrive("500.00", "2026-03-01", ref="A1")

    # when the adjustment posts it
    posted = arrivals_post(actor=SYSTEM)

    # then the fee of 1,000.00 x 0.05% x 45 days = 22.50 is fixed, and the 500.00 pays it, the
    # employee portion 200.00 and 277.50 of the employer portion
    assert posted == [
        PostedArrival(
            arrival_id=arrival.pk,
            arrival_ref="A1",
            case_no="AC2026-0000001",
            arrived_on=date(2026, 3, 1),
            amount=D("500.00"),
            applied=D("500.00"),
            credit=D("0.00"),
            settled=False,
        )
    ]
    source = f"arrival:{arrival.pk}"
    on = date(2026, 3, 1)
    assert entries(case.pk) == [
        (LedgerKind.LATE_FEE_FIXED, D("22.50"), D("0"), D("0"), on, source),
        (LedgerKind.PAYMENT_APPLIED, D("-22.50"), D("-200"), D("-277.50"), on, source),
    ]
    line = ArrearsLine.objects.get()
    assert (line.employer_unpaid, line.employee_unpaid, line.fee_unpaid) == (D("522.50"), 0, 0)
    assert line.fee_accrues_after == date(2026, 3, 1)
    case.refresh_from_db()
    assert (case.state, case.principal_unpaid, case.fee_unpaid, case.paid_total) == (
        CaseState.REGISTERED,
        D("522.50"),
        D("0.00"),
        D("500.00"),
    )
    arrival.refresh_from_db()
    assert (arrival.state, arrival.applied_amount, arrival.credit_amount) == (
        ArrivalState.POSTED,
        D("500.00"),
        D("0.00"),
    )
    assert arrival.posted_at is not None
    assert ledger_differences() == []


def test_money_beyond_the_debt_settles_the_case_and_is_kept_as_the_units_credit(case):
    # given 500.00 posted on 2026-03-01, then 600.00 arrived on 2026-03-11
    arrive("500.00", "2026-03-01", ref="A1")
    arrivals_post(actor=SYSTEM)
    second = arrive("600.00", "2026-03-11", ref="A2")

    # when it is posted
    [posted] = arrivals_post(actor=SYSTEM)

    # then the 10 days on 522.50 (2.6125 -> 2.61) and the 522.50 are paid, 74.89 is credit
    assert (posted.applied, posted.credit, posted.settled) == (D("525.11"), D("74.89"), True)
    case.refresh_from_db()
    assert (case.state, case.principal_unpaid, case.fee_unpaid, case.paid_total) == (
        CaseState.SETTLED,
        D("0.00"),
        D("0.00"),
        D("1025.11"),
    )
    assert list(
        CreditEntry.objects.values_list("unit__uscc", "arrival_id", "case_id", "kind", "amount")
    ) == [(sample_uscc(1), second.pk, case.pk, CreditKind.OVERPAYMENT, D("74.89"))]
    assert list(
        AuditEntry.objects.filter(subject="case", transition="settle").values_list(
            "case_id", "from_state", "to_state", "actor_label"
        )
    ) == [(case.pk, CaseState.REGISTERED, CaseState.SETTLED, "system:tests")]
    assert case_owed(case.pk, as_of=date(2026, 12, 31)).total == D("0.00")
    assert ledger_differences() == []


def test_lines_are_paid_oldest_due_first_whatever_their_order_in_the_file():
    # given a line due 2026-02-15 imported before one due 2025-12-15, of the same unit
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, period="2026-01", due_date="2026-02-15"),
            ArrearsRowFactory(unit_no=1, person_no=2, period="2025-11", due_date="2025-12-15"),
        ]
    )
    newer, older = ArrearsLine.objects.order_by("pk")
    # when 1,100.00 arrives on 2026-02-15 and is posted
    arrive("1100.00", "2026-02-15", ref="A1")
    arrivals_post(actor=SYSTEM)

    # then the older line (fee 1,000.00 x 0.05% x 62 days = 31.00) is paid whole first; the 69.00
    # left goes to the newer line's employee portion (no fee: it is due that very day)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.fee_unpaid, older.employee_unpaid, older.employer_unpaid) == (0, 0, 0)
    assert older.fee_fixed_total == D("31.00")
    assert (newer.fee_unpaid, newer.employee_unpaid, newer.employer_unpaid) == (
        D("0.00"),
        D("131.00"),
        D("800.00"),
    )
    assert ledger_differences() == []


def test_several_arrivals_of_one_case_in_one_batch_are_posted_in_the_order_they_arrived(case):
    # given two arrivals for the case, the later one received first
    arrive("600.00", "2026-03-11", ref="LATER", today=date(2026, 3, 11))
    arrive("500.00", "2026-03-01", ref="EARLIER", today=date(2026, 3, 11))

    # when both are posted in one batch
    posted = arrivals_post(actor=SYSTEM)

    # then exactly as if posted one after the other in date order
    assert [(p.arrival_ref, p.applied, p.credit, p.settled) for p in posted] == [
        ("EARLIER", D("500.00"), D("0.00"), False),
        ("LATER", D("525.11"), D("74.89"), True),
    ]
    assert ArrearsCase.objects.get().state == CaseState.SETTLED
    assert ledger_differences() == []


def test_posting_again_posts_nothing(case):
    # given a posted arrival
    arrive("500.00", "2026-03-01", ref="A1")
    arrivals_post(actor=SYSTEM)
    counts = (LedgerEntry.objects.count(), AuditEntry.objects.count())

    # when / then
    assert arrivals_post(actor=SYSTEM) == []
    assert adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 2)).arrivals == []
    assert arrival_post(arrival_id=Arrival.objects.get().pk, actor=SYSTEM) is None
    assert (LedgerEntry.objects.count(), AuditEntry.objects.count()) == counts


def test_an_unmatched_arrival_is_not_posted_and_posting_it_by_name_says_why(case):
    # given an arrival from a payer without a case
    arrival = arrive("100.00", "2026-03-01", ref="STRANGER", unit_no=9)
    assert arrival.state == ArrivalState.UNMATCHED

    # when / then
    assert arrivals_post(actor=SYSTEM) == []
    with pytest.raises(ValidationError) as refused:
        arrival_post(arrival_id=arrival.pk, actor=SYSTEM)
    assert refused.value.messages == [
        "arrival STRANGER is unmatched, waiting for finance: only a matched arrival is posted."
    ]


def test_the_adjustment_posts_only_what_arrived_by_its_date_and_reports_it(case):
    # given money of 2026-03-01 and of 2026-03-05 (unit 2 has its own case)
    import_rows([ArrearsRowFactory(unit_no=2, person_no=2)])
    arrive("100.00", "2026-03-01", ref="A1", today=date(2026, 3, 5))
    arrive("2000.00", "2026-03-05", ref="A2", unit_no=2)

    # when the adjustment runs for 2026-03-04, then for 2026-03-05
    first = adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 4))
    second = adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 5))

    # then each posted what had arrived by then, and says so
    assert first.lines() == [
        "2026-03-04: 1 arrival(s) posted, 100.00 applied, 0.00 kept as credit, 0 case(s) settled",
        "  A1 (2026-03-01, 100.00) -> AC2026-0000001: 100.00 applied, 0.00 kept as credit",
        "2026-03-04: 0 write-off(s) posted, 0.00 written off",
    ]
    # unit 2 owed 1,000.00 + 49 days of fee (24.50)
    assert second.lines() == [
        "2026-03-05: 1 arrival(s) posted, 1024.50 applied, 975.50 kept as credit, "
        "1 case(s) settled",
        "  A2 (2026-03-05, 2000.00) -> AC2026-0000002: 1024.50 applied, 975.50 kept as credit, "
        "case settled",
        "2026-03-05: 0 write-off(s) posted, 0.00 written off",
    ]


def test_the_daily_run_posts_arrived_money_before_judging_deadlines(case):
    # given a notice issued and delivered 2026-03-02 (deadline 2026-03-09), and the whole debt
    # paid on the deadline but confirmed only afterwards
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    notice = deliver(notice, date(2026, 3, 2))
    assert notice.deadline == date(2026, 3, 9)
    owed = case_owed(case.pk, as_of=notice.deadline).total
    arrive(str(owed), notice.deadline.isoformat(), ref="ON-TIME", today=date(2026, 3, 12))

    # when the daily run of the day after the deadline runs
    report = daily_run(as_of=date(2026, 3, 12))

    # then the case is settled, never overdue
    lines = report.lines()
    assert lines[0] == "2026-03-12: 0 case(s) overdue (notice deadline passed)"
    assert (
        f"2026-03-12: 1 arrival(s) posted, {owed} applied, 0.00 kept as credit, 1 case(s) settled"
        in lines
    )
    assert ArrearsCase.objects.get().state == CaseState.SETTLED
    assert not AuditEntry.objects.filter(transition="deadline_pass").exists()


def test_the_post_adjustments_command_prints_the_report(case):
    arrive("100.00", "2026-03-01", ref="A1")
    out = io.StringIO()
    call_command("post_adjustments", "--date", "2026-03-01", stdout=out)
    assert out.getvalue() == (
        "2026-03-01: 1 arrival(s) posted, 100.00 applied, 0.00 kept as credit, 0 case(s) settled\n"
        "  A1 (2026-03-01, 100.00) -> AC2026-0000001: 100.00 applied, 0.00 kept as credit\n"
        "2026-03-01: 0 write-off(s) posted, 0.00 written off\n"
    )


def test_the_export_shows_the_posted_money_and_the_settled_case(case):
    # given a case paid in part and one paid in full
    import_rows([ArrearsRowFactory(unit_no=2, person_no=2)])
    arrive("500.00", "2026-03-01", ref="A1")
    arrive("1022.50", "2026-03-01", ref="A2", unit_no=2)
    adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 1))
    out = io.StringIO()

    # when
    call_command("export_cases", "--date", "2026-03-11", stdout=out, stderr=io.StringIO())

    # then: unit 1 owes 522.50 and 10 days of fee on it (2.61)
    u1, u2 = sample_uscc(1), sample_uscc(2)
    assert out.getvalue().splitlines()[1:] == [
        f"AC2026-0000001,{u1},{u1},registered,522.50,2.61,500.00,0.00,525.11",
        f"AC2026-0000002,{u2},{u2},settled,0.00,0.00,1022.50,0.00,0.00",
    ]


def post_queries(arrivals: int, first_unit: int) -> int:
    """Queries the adjustment takes to post `arrivals` arrivals (two per case, one settling it)."""
    cases = arrivals // 2
    import_rows(generated_rows(cases * 3, first_unit=first_unit, persons_per_unit=3))
    rows = []
    for n in range(cases):
        uscc = sample_uscc(first_unit + n)
        rows += [
            ArrivalRowFactory(payer_uscc=uscc, amount="100.00", arrived_on="2026-02-20"),
            ArrivalRowFactory(payer_uscc=uscc, amount="99999.00", arrived_on="2026-03-01"),
        ]
    import_arrivals(rows)
    with CaptureQueriesContext(connection) as queries:
        posted = arrivals_post(actor=SYSTEM)
    assert len(posted) == arrivals
    assert sum(p.settled for p in posted) == cases
    return len(queries)


def test_the_adjustment_takes_the_same_statements_for_10_arrivals_as_for_400(
    sqlite_variable_limit,
):
    # given / when 10 arrivals for 5 cases are posted, then 400 for 200 cases (3 lines each)
    few = post_queries(10, first_unit=1)
    many = post_queries(400, first_unit=100)

    # then one batch took the same statements, whatever its size
    assert many == few
    assert ArrearsCase.objects.filter(state=CaseState.SETTLED).count() == 205
    assert ledger_differences() == []


def test_batches_add_a_fixed_number_of_statements(sqlite_variable_limit):
    # given 40 arrivals posted in batches of 10
    import_rows(generated_rows(40, first_unit=1, persons_per_unit=1))
    import_arrivals(
        ArrivalRowFactory(payer_uscc=sample_uscc(n), amount="10.00") for n in range(1, 41)
    )

    # when
    with CaptureQueriesContext(connection) as queries:
        posted = arrivals_post(actor=SYSTEM, batch_size=10)

    # then four batches, each the same statements (the latest posted arrival and the latest
    # standing credit offset of the cases among them), and one query to find there is nothing left
    assert len(posted) == 40
    per_batch = (len(queries) - 1) / 4
    assert per_batch == int(per_batch) <= 23
