"""The paid person-month feed (docs/formats.md, "Paid person-months"), month by month: what a
batch reports, when, and that a batch asked for again is the same bytes."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    LedgerEntry,
    LedgerKind,
    MonthStatus,
    PaidMonthBatch,
    PersonRecordAccess,
    ReadingMark,
    ReportedMonth,
)
from replenish.services import records
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import arrival_reverse, arrivals_post
from replenish.services.ledger import ledger_differences
from replenish.services.records import (
    paid_months_batch_make,
    paid_months_csv,
    person_records_open,
)
from replenish.services.unit_events import EventDocument, unit_record_split
from replenish.services.writeoff import writeoff_accept, writeoff_approve
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    PartyFactory,
    case_of,
    department_user,
    go_bankrupt,
    import_arrivals,
    import_rows,
    pay,
    submitted_writeoff,
)
from units.models import InsuredPerson
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db
D = Decimal
UNIT = sample_uscc(1)
PERSON = sample_id_number(1, region_code="110101")


def batch_text(number: int) -> str:
    return "".join(paid_months_csv(number))


def rows_of(batch: PaidMonthBatch | None) -> list[list[str]]:
    assert batch is not None
    return [line.split(",") for line in batch_text(batch.number).splitlines()[1:]]


def arrive(ref: str, amount: str, on: str) -> None:
    import_arrivals(
        [ArrivalRowFactory(arrival_ref=ref, amount=amount, arrived_on=on)], today=date(2026, 3, 31)
    )
    arrivals_post(actor=SYSTEM)


@pytest.fixture
def two_months():
    """Person 1 owes unit 1 for 2025-11 and 2025-12 (800.00 + 200.00 each, due 2026-01-15)."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11"),
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-12"),
        ]
    )
    return case_of(UNIT)


def test_nothing_paid_makes_no_batch_and_the_file_is_the_header_only(two_months, tmp_path):
    # when the feed runs while every month is still owed
    out = tmp_path / "months.csv"
    call_command("export_paid_months", str(out))

    # then no batch is made and the file holds only the header
    assert PaidMonthBatch.objects.count() == 0
    assert out.read_text() == (
        "batch,unit_uscc,id_number,period,employer_amount,employee_amount,status,status_on\n"
    )


def test_a_month_paid_by_one_arrival_is_reported_paid_on_its_arrival_date(two_months):
    # given money enough for the older month (fee to 2026-03-01: 1000 × 0.05% × 45 = 22.50)
    arrive("A1", "1022.50", "2026-03-01")

    # when the feed runs
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2))

    # then only that month is reported, paid on the arrival's date, with its assessed portions
    assert rows_of(batch) == [
        ["1", UNIT, PERSON, "2025-11", "800.00", "200.00", "paid", "2026-03-01"]
    ]
    # and the next run reports nothing new
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 3)) is None


def test_a_month_paid_by_several_arrivals_is_reported_once_complete(two_months):
    # given a first part of the older month's money
    arrive("A1", "500.00", "2026-03-01")
    # then a partly paid month is not reported
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1)) is None

    # when the rest arrives ten days later (the fee ran on 522.50 - 22.50 = 500.00 principal)
    arrive("A2", "600.00", "2026-03-11")
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 11))

    # then the month is reported paid on the date of the money that completed it
    assert rows_of(batch)[0][3:] == ["2025-11", "800.00", "200.00", "paid", "2026-03-11"]


def test_a_reversal_after_the_month_was_reported_reports_it_reopened(two_months):
    # given the older month paid and reported
    arrive("A1", "1022.50", "2026-03-01")
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1)).number == 1

    # when finance reverses the arrival
    from replenish.models import Arrival

    arrival_reverse(
        arrival_id=Arrival.objects.get(arrival_ref="A1").pk,
        reason="bank recalled it",
        actor=department_user(FINANCE, "cashier"),
        on=date(2026, 3, 20),
    )
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 20))

    # then the month is reported reopened on the reversal's date, and stays reopened
    assert rows_of(batch) == [
        ["2", UNIT, PERSON, "2025-11", "800.00", "200.00", "reopened", "2026-03-20"]
    ]
    assert ReportedMonth.objects.get(period="2025-11").status == MonthStatus.REOPENED
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 21)) is None
    # and paid again, it is reported paid again
    arrive("A3", "2100.00", "2026-03-25")
    assert [r[3:] for r in rows_of(paid_months_batch_make(actor=SYSTEM))] == [
        ["2025-11", "800.00", "200.00", "paid", "2026-03-25"],
        ["2025-12", "800.00", "200.00", "paid", "2026-03-25"],
    ]


def test_a_split_month_is_reported_only_when_every_successor_paid_its_share(two_months):
    # given unit 1 split between two successors, half each
    unit_record_split(
        unit_id=two_months.unit_id,
        successors=[PartyFactory(share="1/2"), PartyFactory(share="1/2")],
        document=EventDocument(occurred_on=date(2026, 3, 1)),
        actor=SYSTEM,
        today=date(2026, 3, 1),
    )
    first, second = ArrearsCase.objects.filter(predecessor=two_months).order_by("pk")

    # when the first successor pays all it owes
    pay(first.pk, "5000.00", on=date(2026, 3, 5))

    # then no month is complete: the other share is still owed
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 5)) is None

    # when the second pays its share as well
    pay(second.pk, "5000.00", on=date(2026, 3, 9))
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 9))

    # then both months are reported once, as the original unit's, with the whole assessed amounts
    assert [r[1:] for r in rows_of(batch)] == [
        [UNIT, PERSON, "2025-11", "800.00", "200.00", "paid", "2026-03-09"],
        [UNIT, PERSON, "2025-12", "800.00", "200.00", "paid", "2026-03-09"],
    ]
    assert ledger_differences() == []


def test_a_written_off_month_is_reported_written_off_when_posted():
    # given a bankrupt unit's month written off by audit and posted by the adjustment
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = go_bankrupt(case_of(UNIT))
    clerk = department_user(COLLECTION, "clerk")
    application = submitted_writeoff(case, actor=clerk)
    writeoff_accept(application_id=application.pk, actor=clerk)
    writeoff_approve(
        application_id=application.pk,
        actor=department_user(AUDIT, "auditor"),
        reason="清算终结",
        today=date(2026, 3, 2),
    )
    adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 3))

    # when the feed runs
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 3))

    # then the month is reported written off
    ((row),) = rows_of(batch)
    assert row[3:7] == ["2025-12", "800.00", "200.00", "written_off"]


def test_a_batch_asked_for_again_is_the_same_bytes(two_months, tmp_path):
    # given batch 1 written by the command
    arrive("A1", "1022.50", "2026-03-01")
    first = tmp_path / "first.csv"
    call_command("export_paid_months", str(first))
    # and more months paid and batched since
    arrive("A2", "2000.00", "2026-03-05")
    call_command("export_paid_months", str(tmp_path / "second.csv"))

    # when batch 1 is asked for again
    again = tmp_path / "again.csv"
    call_command("export_paid_months", "--batch", "1", str(again))

    # then it is byte for byte what was first written
    assert again.read_bytes() == first.read_bytes()
    assert PaidMonthBatch.objects.count() == 2


def test_an_unknown_batch_is_an_error_and_writes_no_file(two_months, tmp_path):
    from django.core.management import CommandError

    out = tmp_path / "x.csv"
    with pytest.raises(CommandError, match="batch 7 does not exist"):
        call_command("export_paid_months", "--batch", "7", str(out))
    assert list(tmp_path.iterdir()) == []


def test_the_feed_takes_a_fixed_number_of_queries(django_assert_max_num_queries, two_months):
    # given many persons' months, some paid
    import_rows([ArrearsRowFactory(unit_no=2, person_no=n) for n in range(2, 60)])
    arrive("A1", "3000.00", "2026-03-01")
    # then making a batch takes the same few statements however many months there are (the
    # reading mark's lock and update, the batch's savepoint, and on PostgreSQL the ledger's index
    # summarized in a savepoint of its own and the look at the open transactions among them)
    with django_assert_max_num_queries(20):
        paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1))


# Each reading commits: on PostgreSQL the mark is the start of the oldest open transaction.
@pytest.mark.django_db(transaction=True)
def test_a_reading_with_nothing_to_report_moves_the_mark_on_and_takes_no_number(
    two_months, django_assert_max_num_queries
):
    # given a batch made, then a reading that finds nothing new
    arrive("A1", "1022.50", "2026-03-01")
    first = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1))
    assert first is not None and first.number == 1
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2)) is None

    # then the mark is where the empty reading read from, past the batch's own
    mark = ReadingMark.objects.get(reader=ReadingMark.Reader.PAID_MONTHS).read_from
    assert mark > first.scanned_from

    # and the next reading looks only at entries recorded since that mark
    arrive("A2", "1022.50", "2026-03-01")
    with django_assert_max_num_queries(20) as queries:
        second = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 3))
    assert any(
        "recorded_at" in q["sql"] and str(mark)[:19] in q["sql"] for q in queries.captured_queries
    )
    # and it is the next number, the empty reading having given its number back
    assert second is not None and second.number == 2
    assert rows_of(second) == [
        ["2", UNIT, PERSON, "2025-12", "800.00", "200.00", "paid", "2026-03-01"]
    ]


@pytest.mark.django_db(transaction=True)
def test_a_database_without_the_mark_reads_from_the_last_batch(two_months):
    # given batches made before the reading mark was kept, and the newer month paid since
    arrive("A1", "1022.50", "2026-03-01")
    first = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1))
    ReadingMark.objects.filter(reader=ReadingMark.Reader.PAID_MONTHS).delete()
    arrive("A2", "1022.50", "2026-03-01")

    # when the next batch is made, it reads from the last batch's bound and reports the month
    second = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2))
    assert [row[3] for row in rows_of(second)] == ["2025-12"]
    mark = ReadingMark.objects.get(reader=ReadingMark.Reader.PAID_MONTHS).read_from
    assert first is not None and mark > first.scanned_from


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_one_batch(two_months):
    # given a month paid
    arrive("A1", "1022.50", "2026-03-01")
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2)))
        finally:
            connection.close()

    # when two feeds run at the same moment
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one made batch 1 and the other found nothing left to report
    assert sorted(str(r.number) if r else "-" for r in results) == ["-", "1"]
    assert PaidMonthBatch.objects.count() == 1
    assert ReportedMonth.objects.count() == 1


# --- a person's months --------------------------------------------------------------------------


def test_a_persons_months_show_status_and_who_owes_them_and_the_opening_is_logged(two_months):
    # given the older month paid
    arrive("A1", "1022.50", "2026-03-01")
    clerk = department_user(COLLECTION, "clerk")

    # when a clerk opens the person's months, saying why
    person, months = person_records_open(id_number=PERSON, reason="职工来电查询", actor=clerk)

    # then every month is there with its status, owed amount and case
    assert person == InsuredPerson.objects.get(id_number=PERSON)
    assert [(m.period, m.status, m.owed, m.status_on) for m in months] == [
        ("2025-11", MonthStatus.PAID, D("0.00"), date(2026, 3, 1)),
        ("2025-12", MonthStatus.OWED, D("1000.00"), None),
    ]
    assert months[1].owed_by == "单位1有限公司"
    assert months[1].case_nos == (two_months.case_no,)
    # and the opening is in the access log, with whose months and why
    access = PersonRecordAccess.objects.get()
    assert (access.actor_label, access.person, access.reason) == ("clerk", person, "职工来电查询")
    assert access.masked_id_number == PERSON[:6] + "********" + PERSON[-4:]


def test_opening_needs_a_reason_and_the_permission_and_changes_nothing(two_months):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError):
        person_records_open(
            id_number=PERSON, reason="  ", actor=department_user(COLLECTION, "clerk")
        )
    with pytest.raises(PermissionDenied):
        person_records_open(id_number=PERSON, reason="x", actor=department_user(AUDIT, "a"))
    assert PersonRecordAccess.objects.count() == 0


def test_a_correction_after_the_month_was_reported_reports_it_reopened_then_paid(two_months):
    from replenish.models import ArrearsLine
    from replenish.services.corrections import correction_approve, correction_record

    # given the older month paid and reported
    arrive("A1", "1022.50", "2026-03-01")
    assert paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1)).number == 1
    line = ArrearsLine.objects.get(period="2025-11")

    # when its employer portion is corrected upward and a second collection user approves it
    correction = correction_record(
        line_id=line.pk,
        employer_amount=D("900.00"),
        employee_amount=D("200.00"),
        reason="基数核定有误",
        document_ref="稽核〔2026〕5号",
        actor=department_user(COLLECTION, "recorder"),
    )
    correction_approve(
        correction_id=correction.pk,
        actor=department_user(COLLECTION, "approver"),
        on=date(2026, 3, 15),
    )

    # then the month is owed again: reported reopened, with its corrected assessed portions
    ((row),) = rows_of(paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 15)))
    assert row[3:] == ["2025-11", "900.00", "200.00", "reopened", "2026-03-15"]
    assert ledger_differences() == []


@pytest.mark.postgres
def test_a_ledger_index_that_cannot_be_summarized_does_not_stop_the_reading(
    two_months, monkeypatch, caplog
):
    # given an index the reading may not summarize (here: one that does not exist)
    monkeypatch.setattr(records, "LEDGER_RECORDED_AT_INDEX", "no_such_index")
    arrive("A1", "1022.50", "2026-03-01")

    # when the batch is made, then it is made all the same, and the refusal is in the log
    batch = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 1))
    assert [row[3] for row in rows_of(batch)] == ["2025-11"]
    assert "not summarized" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_entries_are_recorded_at_their_transactions_start_by_the_databases_clock(two_months):
    # when money is posted in a transaction that started a moment before
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT transaction_timestamp()")
            started = cursor.fetchone()[0]
        arrive("A1", "1022.50", "2026-03-01")

    # then its entries carry the start of that transaction, the clock the feed's mark is read by
    entries = LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT_APPLIED)
    assert entries.exists()
    assert set(entries.values_list("recorded_at", flat=True)) == {started}


@pytest.mark.postgres
def test_imported_principal_is_recorded_at_its_transactions_start_by_the_databases_clock():
    # when arrears are imported in a transaction that started a moment before
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT transaction_timestamp()")
            started = cursor.fetchone()[0]
        import_rows([ArrearsRowFactory(unit_no=9, person_no=n) for n in (1, 2)])

    # then the assessed entries carry the start of that transaction too
    entries = LedgerEntry.objects.filter(kind=LedgerKind.ASSESSED)
    assert entries.count() == 2
    assert set(entries.values_list("recorded_at", flat=True)) == {started}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_money_posted_by_a_transaction_open_while_a_batch_is_made_is_in_the_next_one(
    two_months,
):
    # given the older month paid
    arrive("A1", "1022.50", "2026-03-01")
    posted, release, failures = threading.Event(), threading.Event(), []

    def post_and_wait():
        # an adjustment that has posted the newer month's money and not committed yet
        try:
            with transaction.atomic():
                arrive("A2", "1022.50", "2026-03-01")
                posted.set()
                assert release.wait(timeout=30)
        except Exception as exc:  # reported by the test below
            failures.append(exc)
            posted.set()
        finally:
            connection.close()

    poster = threading.Thread(target=post_and_wait)
    poster.start()
    assert posted.wait(timeout=30) and not failures

    # when a batch is made meanwhile, after the newer month's entries were recorded
    first = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2))
    release.set()
    poster.join(timeout=30)
    assert not failures and not poster.is_alive()

    # then it reported the older month only, and the next batch reports the newer one, though
    # its entries were recorded before the first batch was made
    assert [row[3] for row in rows_of(first)] == ["2025-11"]
    second = paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 3))
    assert rows_of(second) == [
        ["2", UNIT, PERSON, "2025-12", "800.00", "200.00", "paid", "2026-03-01"]
    ]
