"""`notice_deliver` and `notice_acknowledge`: the time limit starts on delivery."""

from datetime import date, timedelta

import holidays
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from notices.models import Notice, NoticeState, Reminder
from notices.services import case_issue_notice, notice_acknowledge, notice_deliver
from operations.daily import daily_run
from replenish.models import ArrearsCase, AuditEntry, CaseState
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UserFactory,
    deliver,
    import_rows,
    receipt,
    table_counts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def expected_deadline(delivered_on: date, working_days: int = 5) -> date:
    """Walk forward day by day on the `holidays` calendar of mainland China."""
    calendar = holidays.China(years=range(delivered_on.year, delivered_on.year + 2))
    day, left = delivered_on, working_days
    while left:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


@pytest.fixture
def notice() -> Notice:
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
    )


def test_delivery_by_post_records_date_proof_and_sets_the_deadline(notice):
    # given a collector
    collector = UserFactory(username="collector", permissions=["notices.deliver_notice"])
    audits = AuditEntry.objects.count()

    # when the return receipt says it was delivered on Wednesday 4 March 2026
    notice_deliver(
        notice_id=notice.pk,
        channel="post",
        delivered_on=date(2026, 3, 4),
        proof=receipt("回执.pdf"),
        note="EMS 1234",
        actor=collector,
        today=date(2026, 3, 6),
    )

    # then it is delivered and its deadline is 5 working days later: Wednesday 11 March
    notice.refresh_from_db()
    assert notice.state == NoticeState.DELIVERED
    assert (notice.delivery_channel, notice.delivered_on, notice.deadline) == (
        "post",
        date(2026, 3, 4),
        date(2026, 3, 11),
    )
    assert notice.delivery_note == "EMS 1234"
    assert notice.delivery_proof.name.startswith("notices/delivery-proofs/2026/")
    assert notice.delivery_proof.read() == receipt().read()
    assert list(
        AuditEntry.objects.order_by("id")[audits:].values_list(
            "subject", "transition", "from_state", "to_state", "actor_label", "reason"
        )
    ) == [("notice", "deliver", "issued", "delivered", "collector", "post on 2026-03-04: EMS 1234")]


@pytest.mark.parametrize(
    "delivered_on",
    [date(2026, 3, 2), date(2026, 9, 29), date(2026, 9, 30), date(2026, 2, 13)],
    ids=["plain-week", "before-national-day", "eve-of-national-day", "before-spring-festival"],
)
def test_the_deadline_is_five_working_days_after_delivery_on_the_holiday_calendar(delivered_on):
    # given a notice issued the same day
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    notice = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=delivered_on
    )

    # when it is delivered
    notice = deliver(notice, delivered_on)

    # then
    assert notice.deadline == expected_deadline(delivered_on)


def test_a_deadline_across_national_day_skips_the_holiday_and_counts_the_makeup_day():
    # given the 2026 National Day holiday as the calendar has it: some days off in October,
    # and a weekend day in the surroundings worked instead
    calendar = holidays.China(years=2026)
    october = [date(2026, 10, 1) + timedelta(days=d) for d in range(31)]
    days_off = [d for d in october if d.weekday() < 5 and not calendar.is_working_day(d)]
    makeup = [
        d
        for d in [date(2026, 9, 1) + timedelta(days=n) for n in range(61)]
        if d.weekday() >= 5 and calendar.is_working_day(d)
    ]
    assert date(2026, 10, 1) in days_off and makeup
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    notice = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 9, 30)
    )

    # when delivered on the last working day before it
    notice = deliver(notice, date(2026, 9, 30))

    # then the five working days are counted on the calendar: the holiday skipped, a make-up
    # working day counted
    assert notice.deadline == expected_deadline(date(2026, 9, 30))
    working = [
        date(2026, 9, 30) + timedelta(days=n)
        for n in range(1, (notice.deadline - date(2026, 9, 30)).days + 1)
        if calendar.is_working_day(date(2026, 9, 30) + timedelta(days=n))
    ]
    assert len(working) == 5 and working[-1] == notice.deadline
    assert notice.deadline > max(days_off)


def test_the_daily_run_makes_the_case_overdue_only_after_the_deadline_from_delivery(notice):
    # given a notice issued on 2 March and delivered on 9 March (deadline 16 March)
    notice = deliver(notice, date(2026, 3, 9))
    assert notice.deadline == date(2026, 3, 16)

    # when the daily run comes on the deadline, then the day after
    daily_run(as_of=date(2026, 3, 16))
    on_deadline = ArrearsCase.objects.get().state
    daily_run(as_of=date(2026, 3, 17))

    # then
    assert on_deadline == CaseState.NOTIFIED
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"channel": "fax"}, "channel", "fax is not a delivery channel"),
        ({"delivered_on": date(2026, 3, 20)}, "delivered_on", "2026-03-20 is in the future."),
        ({"delivered_on": date(2026, 3, 1)}, "delivered_on", "before the notice was issued"),
        ({"proof": None}, "proof", "Delivery by post needs the scanned return receipt"),
        ({"proof": receipt("receipt.exe")}, "proof", "must be a PDF, JPEG or PNG file"),
    ],
    ids=["channel", "future", "before-issue", "no-proof", "proof-type"],
)
def test_bad_input_is_refused_saying_where_and_why_and_changes_nothing(
    notice, changes, where, message
):
    # given
    before = table_counts()
    arguments = {
        "notice_id": notice.pk,
        "channel": "post",
        "delivered_on": date(2026, 3, 4),
        "proof": receipt(),
        "actor": SYSTEM,
        "today": date(2026, 3, 10),
    } | changes

    # when / then
    with pytest.raises(ValidationError) as refused:
        notice_deliver(**arguments)
    assert list(refused.value.message_dict) == [where]
    assert message in refused.value.message_dict[where][0]
    assert table_counts() == before
    notice.refresh_from_db()
    assert (notice.state, notice.deadline) == (NoticeState.ISSUED, None)


def test_a_notice_delivered_once_cannot_be_delivered_again(notice):
    # given
    deliver(notice, date(2026, 3, 4))

    # when / then
    with pytest.raises(ValidationError, match="is delivered: deliver is not possible"):
        deliver(notice, date(2026, 3, 5))
    notice.refresh_from_db()
    assert notice.delivered_on == date(2026, 3, 4)


def test_a_clerk_without_the_permission_cannot_record_a_delivery(notice):
    clerk = UserFactory(username="clerk")
    with pytest.raises(PermissionDenied):
        notice_deliver(
            notice_id=notice.pk,
            channel="post",
            delivered_on=date(2026, 3, 4),
            proof=receipt(),
            actor=clerk,
            today=date(2026, 3, 4),
        )
    assert Notice.objects.get().state == NoticeState.ISSUED


def test_delivery_schedules_the_notice_reminders(notice):
    # when
    notice = deliver(notice, date(2026, 3, 4))

    # then: 2 days before the deadline (11 March) and 1 day after it, at 09:00 Shanghai
    assert sorted(
        (r.rule.code, r.anchor, r.due_at.isoformat(), r.state)
        for r in Reminder.objects.select_related("rule")
    ) == [
        (
            "notice_deadline_approaching",
            date(2026, 3, 11),
            "2026-03-09T01:00:00+00:00",
            "scheduled",
        ),
        ("notice_overdue", date(2026, 3, 11), "2026-03-12T01:00:00+00:00", "scheduled"),
    ]


def test_the_unit_acknowledges_a_delivered_notice(notice):
    # given
    deliver(notice, date(2026, 3, 4))
    unit_user = UserFactory(username="unit-finance", permissions=["notices.acknowledge_notice"])

    # when
    notice_acknowledge(notice_id=notice.pk, actor=unit_user)

    # then
    notice.refresh_from_db()
    assert (notice.state, notice.acknowledged_by) == (NoticeState.ACKNOWLEDGED, "unit-finance")
    assert notice.acknowledged_at is not None
    assert notice.delivered_on == date(2026, 3, 4)


def test_acknowledging_a_notice_not_yet_recorded_as_delivered_delivers_it_that_day(notice):
    # when the unit acknowledges on 5 March a notice staff have not recorded as delivered
    from datetime import datetime
    from zoneinfo import ZoneInfo

    at = datetime(2026, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    notice_acknowledge(notice_id=notice.pk, actor=SYSTEM, at=at)

    # then it was delivered (portal) that day, and the time limit runs from then
    notice.refresh_from_db()
    assert (notice.state, notice.delivery_channel, notice.delivered_on, notice.deadline) == (
        NoticeState.ACKNOWLEDGED,
        "portal",
        date(2026, 3, 5),
        date(2026, 3, 12),
    )
    assert list(
        AuditEntry.objects.filter(subject="notice").order_by("id").values_list("transition")
    ) == [("issue",), ("deliver",), ("acknowledge",)]
