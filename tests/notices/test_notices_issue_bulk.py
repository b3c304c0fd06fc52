"""`notices_issue_bulk`: a notice for every registered case, set-based, in batches."""

import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notices.models import Notice, Notification
from notices.services import IssuedNotice, case_issue_notice, notices_issue_bulk
from replenish.models import ArrearsCase, AuditEntry, CaseState
from replenish.selectors import line_late_fee
from replenish.services.ledger import ledger_differences
from tests.factories import (
    SYSTEM,
    ArrearsCaseFactory,
    ArrearsRowFactory,
    generated_rows,
    import_rows,
    table_counts,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
D = Decimal
ISSUED_ON = date(2026, 3, 1)


def test_every_registered_case_gets_a_notice_with_its_amounts():
    # given three registered cases (two regions) and one already notified (AC2026-0000003)
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=1, person_no=2, employer_amount="10.00",
                              employee_amount="0.00", due_date="2026-02-28"),
            ArrearsRowFactory(unit_no=2, person_no=3, employer_amount="500.00"),
            ArrearsRowFactory(unit_no=3, person_no=4, region_code="310104"),
            ArrearsRowFactory(unit_no=4, person_no=5),
        ]
    )  # fmt: skip
    early = ArrearsCase.objects.get(unit__uscc=sample_uscc(4))
    case_issue_notice(case_id=early.pk, actor=SYSTEM, issued_on=date(2026, 2, 27))

    # when
    issued = notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)

    # then one notice per registered case, listed by case number, numbered on from the earlier one
    by_case = {n.case_no: n for n in issued}
    assert sorted(by_case) == ["AC2026-0000001", "AC2026-0000002", "AC2026-0000004"]
    assert [n.case_no for n in issued] == sorted(by_case)
    # 1,000.00 for 45 days = 22.50, plus 10.00 for 1 day = 0.005 -> 0.01 (rounded per line)
    assert by_case["AC2026-0000001"].total == D("1032.51")
    assert by_case["AC2026-0000002"].total == D("700.00") + D("15.75")
    assert by_case["AC2026-0000004"].total == D("1022.50")
    assert by_case["AC2026-0000004"].notice_no == "N310104-2026-000001"
    assert sorted(by_case[c].notice_no for c in ("AC2026-0000001", "AC2026-0000002")) == [
        "N310101-2026-000002",
        "N310101-2026-000003",
    ]
    for notice in Notice.objects.filter(issued_on=ISSUED_ON).select_related("case"):
        lines = notice.case.lines.all()
        assert notice.principal == notice.case.principal_unpaid
        assert notice.late_fee == sum(line_late_fee(line, as_of=ISSUED_ON) for line in lines)
        assert notice.total == by_case[notice.case.case_no].total
        assert notice.number == by_case[notice.case.case_no].notice_no
        assert notice.snapshot["notice_no"] == notice.number
        assert (notice.state, notice.case.state) == ("issued", CaseState.NOTIFIED)
    assert ledger_differences() == []


def test_each_case_and_notice_gets_its_audit_row():
    # given
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    audits = AuditEntry.objects.count()

    # when
    notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)

    # then
    notices = {n.case_id: n.pk for n in Notice.objects.all()}
    assert sorted(
        AuditEntry.objects.order_by("id")[audits:].values_list(
            "case_id", "subject", "subject_id", "transition", "from_state", "to_state",
            "actor_label", "reason",
        )
    ) == sorted(
        [(case_id, "notice", pk, "issue", "draft", "issued", "system:tests", "")
         for case_id, pk in notices.items()]
        + [(case_id, "case", case_id, "issue_notice", "registered", "notified", "system:tests",
            "bulk issue") for case_id in notices]
    )  # fmt: skip


def test_issuing_again_issues_nothing():
    # given
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)
    before = table_counts()

    # when
    again = notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)

    # then
    assert again == []
    assert table_counts() == before


def test_cases_in_small_batches_are_all_issued_with_consecutive_numbers():
    # given five registered cases and batches of two
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(1, 6)])

    # when
    issued = notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM, batch_size=2)

    # then
    assert sorted(n.notice_no for n in issued) == [f"N310101-2026-{s:06d}" for s in range(1, 6)]
    assert set(ArrearsCase.objects.values_list("state", flat=True)) == {CaseState.NOTIFIED}


def test_a_case_owing_nothing_is_left_alone():
    # given a registered case without lines
    empty = ArrearsCaseFactory()

    # when
    assert notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM) == []

    # then
    assert ArrearsCase.objects.get(pk=empty.pk).state == CaseState.REGISTERED


@pytest.fixture
def sqlite_real_variable_limit(monkeypatch):
    """Django 5.2 assumes SQLite's historical limit of 999 variables a statement and splits a
    bulk INSERT of 200 notices into several; the SQLite linked here allows far more (Django 6.0
    reads the real limit). Use the real limit, so the comparison is about the service."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        monkeypatch.setattr(connection.features, "max_query_params", limit)


def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(
    sqlite_real_variable_limit,
):
    # given 10 registered cases
    import_rows(generated_rows(10, first_unit=1, persons_per_unit=1))

    # when they are issued
    with CaptureQueriesContext(connection) as few:
        assert len(notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)) == 10

    # and then 200 more of the same region
    import_rows(generated_rows(400, first_unit=100, persons_per_unit=2))
    with CaptureQueriesContext(connection) as many:
        assert len(notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM)) == 200

    # then the batch took the same statements
    assert len(many) == len(few)


def test_the_result_lists_case_number_notice_number_and_total():
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])

    # when / then
    assert notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM) == [
        IssuedNotice("AC2026-0000001", "N310101-2026-000001", D("1022.50"))
    ]


@pytest.mark.slow
def test_ten_thousand_notices_take_the_queries_of_a_hundred_and_render_no_pdf(
    sqlite_real_variable_limit, monkeypatch, django_capture_on_commit_callbacks
):
    # given 100 registered cases, and no PDF may be rendered while issuing
    import notices.documents

    def no_pdf(*args, **kwargs):
        raise AssertionError("a PDF was rendered inside the issuing transaction")

    monkeypatch.setattr(notices.documents, "pdf_render", no_pdf)
    import_rows(generated_rows(100, first_unit=1, persons_per_unit=1))

    # when they are issued in one batch
    with (
        CaptureQueriesContext(connection) as hundred,
        django_capture_on_commit_callbacks(execute=False) as after_hundred,
    ):
        few = notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM, batch_size=10_000)

    # and then 10,000 more, in one batch too
    import_rows(generated_rows(10_000, first_unit=200, persons_per_unit=1))
    with (
        CaptureQueriesContext(connection) as ten_thousand,
        django_capture_on_commit_callbacks(execute=False) as after_ten_thousand,
    ):
        issued = notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM, batch_size=10_000)

    # then the same statements ran, each notice has its delivery message waiting, and one
    # sweep is queued after commit (not ten thousand tasks)
    assert (len(few), len(issued)) == (100, 10_000)
    assert len(ten_thousand) == len(hundred)
    assert Notification.objects.filter(kind="notice_issued", state="pending").count() == 10_100
    assert (len(after_hundred), len(after_ten_thousand)) == (1, 1)
