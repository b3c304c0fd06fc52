"""`case_issue_notice`: one replenishment notice for one case."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from notices.models import Notice, NoticeState
from notices.services import case_issue_notice
from operations.daily import daily_run
from replenish.models import ArrearsCase, AuditEntry, CaseState, NumberSequence
from replenish.selectors import line_late_fee
from replenish.services.ledger import ledger_differences
from tests.factories import (
    SYSTEM,
    ArrearsCaseFactory,
    ArrearsRowFactory,
    UserFactory,
    case_of,
    deliver,
    import_rows,
    table_counts,
)
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The refusals are checked in English (the msgids); Chinese is the default language."""
    with translation.override("en"):
        yield


D = Decimal


def one_case(**row) -> ArrearsCase:
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, **row)])
    return ArrearsCase.objects.get()


def test_the_worked_example_of_the_design():
    # given 1,000.00 due 2026-01-15
    case = one_case(employer_amount="800.00", employee_amount="200.00", due_date="2026-01-15")

    # when a notice is issued on 2026-03-01 (45 days late at 0.05 % a day)
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 1))

    # then
    notice.refresh_from_db()
    assert (notice.principal, notice.late_fee, notice.total) == (
        D("1000.00"),
        D("22.50"),
        D("1022.50"),
    )
    assert notice.snapshot["lines"] == [
        {
            "period": "2025-12",
            "person": "职工1",
            "id_number": sample_id_number(1, region_code="110101")[:6]
            + "********"
            + sample_id_number(1, region_code="110101")[-4:],
            "due_date": "2026-01-15",
            "employer": "800.00",
            "employee": "200.00",
            "late_fee": "22.50",
        }
    ]
    assert {k: notice.snapshot[k] for k in ("principal", "late_fee", "total")} == {
        "principal": "1000.00",
        "late_fee": "22.50",
        "total": "1022.50",
    }
    assert (notice.snapshot["case_no"], notice.snapshot["notice_no"]) == (
        "AC2026-0000001",
        "N310101-2026-000001",
    )
    assert notice.snapshot["unit"] == {
        "uscc": sample_uscc(1),
        "name": "单位1有限公司",
        "region_code": "310101",
    }
    assert sample_id_number(1, region_code="110101") not in str(notice.snapshot)


def test_the_snapshot_is_the_case_principal_and_the_fee_to_the_issue_date_line_by_line():
    # given a case of several lines, due on different dates, amounts whose fees need rounding
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-10", due_date="2025-11-15",
                              employer_amount="333.33", employee_amount="66.67"),
            ArrearsRowFactory(unit_no=1, person_no=2, period="2025-11", due_date="2025-12-15",
                              employer_amount="10.00", employee_amount="0.00"),
            ArrearsRowFactory(unit_no=1, person_no=3, period="2025-12", due_date="2026-01-15",
                              employer_amount="1234.56", employee_amount="308.64"),
        ]
    )  # fmt: skip
    case = ArrearsCase.objects.get()
    issued_on = date(2026, 2, 20)

    # when
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=issued_on)

    # then the principal is the case's, and the fee is each line's, rounded, summed
    per_line = [line_late_fee(line, as_of=issued_on) for line in case.lines.order_by("due_date")]
    # 400.00 x 0.0005 x 97 days = 19.40; 10.00 x 0.0005 x 67 = 0.335 -> 0.34;
    # 1543.20 x 0.0005 x 36 = 27.7776 -> 27.78
    assert per_line == [D("19.40"), D("0.34"), D("27.78")]
    assert notice.principal == ArrearsCase.objects.get().principal_unpaid == D("1953.20")
    assert notice.late_fee == D("47.52")
    assert notice.total == D("2000.72")
    assert [row["late_fee"] for row in notice.snapshot["lines"]] == ["19.40", "0.34", "27.78"]


def test_the_case_becomes_notified_with_audit_rows_for_the_notice_and_the_case():
    # given
    collector = UserFactory(username="collector", permissions=["replenish.issue_notice"])
    case = one_case()
    opened = AuditEntry.objects.count()

    # when
    notice = case_issue_notice(case_id=case.pk, actor=collector, issued_on=date(2026, 3, 2))

    # then
    assert ArrearsCase.objects.get().state == CaseState.NOTIFIED
    assert Notice.objects.get().state == NoticeState.ISSUED
    assert list(
        AuditEntry.objects.order_by("id")[opened:].values_list(
            "case_id", "subject", "subject_id", "transition", "from_state", "to_state",
            "actor", "actor_label", "reason",
        )
    ) == [
        (case.pk, "notice", notice.pk, "issue", "draft", "issued", collector.pk, "collector", ""),
        (case.pk, "case", case.pk, "issue_notice", "registered", "notified", collector.pk,
         "collector", "notice N310101-2026-000001"),
    ]  # fmt: skip
    assert ledger_differences() == []


def test_numbers_run_without_gaps_per_region_and_year_and_restart_per_region():
    # given four cases in Huangpu (310101) and one in Xuhui (310104)
    import_rows(
        [ArrearsRowFactory(unit_no=n, person_no=n) for n in range(1, 5)]
        + [ArrearsRowFactory(unit_no=9, person_no=9, region_code="310104")]
    )
    huangpu = list(
        ArrearsCase.objects.filter(region_code="310101")
        .order_by("case_no")
        .values_list("pk", flat=True)
    )
    xuhui = ArrearsCase.objects.get(region_code="310104")

    # when notices are issued in turn, one of them in the next year
    numbers = [
        case_issue_notice(case_id=huangpu[0], actor=SYSTEM, issued_on=date(2026, 3, 2)).number,
        case_issue_notice(case_id=xuhui.pk, actor=SYSTEM, issued_on=date(2026, 3, 2)).number,
        case_issue_notice(case_id=huangpu[1], actor=SYSTEM, issued_on=date(2026, 3, 3)).number,
        case_issue_notice(case_id=huangpu[2], actor=SYSTEM, issued_on=date(2026, 3, 4)).number,
        case_issue_notice(case_id=huangpu[3], actor=SYSTEM, issued_on=date(2027, 1, 4)).number,
    ]

    # then
    assert numbers == [
        "N310101-2026-000001",
        "N310104-2026-000001",
        "N310101-2026-000002",
        "N310101-2026-000003",
        "N310101-2027-000001",
    ]
    assert list(
        Notice.objects.order_by("number").values_list("region_code", "year", "sequence")
    ) == [
        ("310101", 2026, 1),
        ("310101", 2026, 2),
        ("310101", 2026, 3),
        ("310101", 2027, 1),
        ("310104", 2026, 1),
    ]


def test_the_notice_has_no_deadline_until_it_is_delivered_only_the_rule():
    # given
    case = one_case()

    # when
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))

    # then the time limit runs from delivery: the snapshot says how long, not until when
    notice.refresh_from_db()
    assert (notice.deadline, notice.delivered_on) == (None, None)
    assert notice.snapshot["deadline"] is None
    assert notice.snapshot["deadline_rule"] == {"working_days": 5, "from": "delivery"}


@pytest.mark.parametrize("state", [CaseState.NOTIFIED, CaseState.SETTLED, CaseState.AGREEMENT])
def test_a_notice_for_a_case_not_registered_or_overdue_is_refused_and_changes_nothing(state):
    # given a case in another state
    case = ArrearsCaseFactory(state=state)
    before = table_counts()

    # when / then
    with pytest.raises(ValidationError) as refused:
        case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    assert refused.value.messages == [
        f"Case {case.case_no} is {CaseState(state).label}: a notice is issued only for a "
        "registered or overdue case."
    ]
    assert table_counts() == before
    assert ArrearsCase.objects.get(pk=case.pk).state == state


def test_a_notice_for_a_case_owing_nothing_is_refused():
    # given a registered case without lines
    case = ArrearsCaseFactory()

    # when / then
    with pytest.raises(ValidationError, match=f"Case {case.case_no} owes nothing"):
        case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    assert not Notice.objects.exists()
    assert not NumberSequence.objects.filter(scope__startswith="notice:").exists()


def test_a_second_notice_for_a_notified_case_is_refused():
    # given
    case = one_case()
    first = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    before = table_counts()

    # when / then
    with pytest.raises(ValidationError, match="is notified"):
        case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 3))
    assert table_counts() == before
    assert list(Notice.objects.values_list("pk", "state")) == [(first.pk, "issued")]
    assert NumberSequence.objects.get(scope="notice:310101:2026").last_value == 1


def test_reissuing_for_an_overdue_case_supersedes_the_old_notice():
    # given a case whose notice's deadline passed unpaid
    case = one_case()
    old = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    old = deliver(old, date(2026, 3, 3))
    daily_run(as_of=old.deadline + timedelta(days=1))
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE
    audits = AuditEntry.objects.count()

    # when a new notice is issued
    new = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 4, 1))

    # then the old one is superseded, the new one is current, and the case is notified again
    assert list(Notice.objects.order_by("sequence").values_list("number", "state")) == [
        ("N310101-2026-000001", "superseded"),
        ("N310101-2026-000002", "issued"),
    ]
    assert ArrearsCase.objects.get().state == CaseState.NOTIFIED
    assert list(
        AuditEntry.objects.order_by("id")[audits:].values_list(
            "subject", "subject_id", "transition", "from_state", "to_state", "reason"
        )
    ) == [
        ("notice", old.pk, "supersede", "delivered", "superseded", "reissued"),
        ("notice", new.pk, "issue", "draft", "issued", ""),
        ("case", case.pk, "issue_notice", "overdue", "notified", f"notice {new.number}"),
    ]
    # The late fee of the new notice runs to its own issue date: 1,000.00 x 0.0005 x 76 days.
    assert (new.late_fee, new.total) == (D("38.00"), D("1038.00"))


def test_a_staff_user_without_the_permission_cannot_issue_and_nothing_is_written():
    # given
    clerk = UserFactory(username="clerk")
    case = one_case()
    before = table_counts()

    # when / then
    with pytest.raises(PermissionDenied, match="clerk may not issue a notice"):
        case_issue_notice(case_id=case.pk, actor=clerk, issued_on=date(2026, 3, 2))
    assert table_counts() == before
    assert case_of(sample_uscc(1)).state == CaseState.REGISTERED
