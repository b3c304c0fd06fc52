"""Reminders: rows due at a time, sent by the periodic job, each rule set by staff."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from notices import reminders
from notices.messages import Kind
from notices.models import Notification, Reminder, ReminderRule
from notices.outbox import Outgoing
from notices.reminders import (
    RULES,
    SOURCES,
    Anchor,
    ReminderSource,
    reminder_rule_change,
    reminders_schedule,
    reminders_send_due,
)
from notices.services import case_issue_notice
from notices.tasks import dispatch_task
from operations.daily import daily_run
from replenish.models import ArrearsCase, CaseState
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UnitContactFactory,
    UserFactory,
    deliver,
    import_rows,
)
from units.models import Unit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def notice():
    """Notice of unit 1 (portal and e-mail) issued 2 March 2026, delivered 4 March: deadline
    11 March; reminders due 9 March (approaching) and 12 March (overdue), at 09:00."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    UnitContactFactory(unit=Unit.objects.get(), email="caiwu@danwei1.example.cn", mobile="")
    issued = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
    )
    Notification.objects.all().delete()  # the delivery messages are not what is tested here
    return deliver(issued, date(2026, 3, 4))


def kinds() -> list[tuple[str, str, str]]:
    return sorted(Notification.objects.values_list("kind", "channel", "department"))


def test_every_rule_of_the_issue_exists_with_its_default_days():
    assert dict(ReminderRule.objects.values_list("code", "days")) == {
        "notice_deadline_approaching": 2,
        "notice_overdue": 1,
        "installment_due_7": 7,
        "installment_due_1": 1,
        "installment_overdue": 1,
        "agreement_breached": 0,
        "writeoff_waiting": 30,
        "arrival_unmatched": 7,
        "court_window_closing": 30,  # issue 18: enforcement
        "writeoff_returned": 15,
    }
    assert set(RULES) == set(ReminderRule.objects.values_list("code", flat=True))
    assert set(SOURCES) == set(RULES)
    assert set(SOURCES) == {
        "notice_deadline_approaching",
        "notice_overdue",
        "installment_due_7",
        "installment_due_1",
        "installment_overdue",
        "writeoff_waiting",
        "arrival_unmatched",
        "agreement_breached",
        "court_window_closing",
        "writeoff_returned",
    }


def test_nothing_is_sent_before_the_due_time_and_the_reminder_is_sent_once_at_it(notice):
    # when the job runs a minute before 09:00 on 9 March, at 09:00, and again later
    before = reminders_send_due(now=at(date(2026, 3, 9)) - timedelta(minutes=1))
    due = reminders_send_due(now=at(date(2026, 3, 9)))
    again = reminders_send_due(now=at(date(2026, 3, 9), 10))

    # then the deadline reminder went out once, on the unit's channels
    assert (before, due, again) == (0, 1, 0)
    assert kinds() == [
        (Kind.NOTICE_DEADLINE_APPROACHING, "email", ""),
        (Kind.NOTICE_DEADLINE_APPROACHING, "portal", ""),
    ]
    reminder = Reminder.objects.get(rule__code="notice_deadline_approaching")
    assert (reminder.state, reminder.done_at) == ("sent", at(date(2026, 3, 9)))
    assert Notification.objects.get(channel="email").context["deadline"] == "2026-03-11"


def test_a_notice_reminder_says_what_the_notice_snapshot_says(notice):
    # when the deadline reminder goes out
    reminders_send_due(now=at(date(2026, 3, 9)))

    # then each message's content is the notice's own, as its snapshot has it (read in SQL)
    snapshot = notice.snapshot
    expected = {
        "unit_name": snapshot["unit"]["name"],
        "unit_uscc": snapshot["unit"]["uscc"],
        "case_no": snapshot["case_no"],
        "notice_no": notice.number,
        "total": snapshot["total"],
        "issued_on": snapshot["issued_on"],
        "deadline": "2026-03-11",
        "agency_name": snapshot["agency"]["name"],
        "agency_contact": snapshot["agency"]["contact"],
    }
    messages = Notification.objects.filter(kind=Kind.NOTICE_DEADLINE_APPROACHING)
    assert [(m.context, m.case_id, m.notice_id, m.unit_id) for m in messages] == [
        (expected, notice.case_id, notice.pk, notice.case.unit_id)
    ] * 2
    assert all(isinstance(value, str) and value for value in expected.values())


def test_the_deadline_reminder_is_not_sent_when_the_case_is_no_longer_unpaid(notice):
    # given the case was settled in the meantime (payments come with issue 4)
    ArrearsCase.objects.filter(pk=notice.case_id).update(state=CaseState.SETTLED)

    # when
    assert reminders_send_due(now=at(date(2026, 3, 9))) == 0

    # then
    assert Reminder.objects.get(rule__code="notice_deadline_approaching").state == "cancelled"
    assert kinds() == []


def test_overdue_goes_to_the_unit_and_to_the_collection_department(
    notice, django_capture_on_commit_callbacks, mailoutbox
):
    # given the collection department has a member with an address
    UserFactory(username="li", email="li@ybj.example").groups.add(
        Group.objects.get(name="征缴部门")
    )

    # when the daily run of 12 March makes the case overdue and sends what is due that day
    with django_capture_on_commit_callbacks(execute=True):
        report = daily_run(as_of=date(2026, 3, 12))

    # then
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE
    assert report.reminders_sent == 1  # the approaching one was cancelled: the case is overdue
    assert kinds() == [
        (Kind.NOTICE_OVERDUE, "email", ""),
        (Kind.NOTICE_OVERDUE, "portal", ""),
        (Kind.NOTICE_OVERDUE_STAFF, "email", "collection"),
    ]
    assert sorted(m.to[0] for m in mailoutbox) == ["caiwu@danwei1.example.cn", "li@ybj.example"]
    staff = next(m for m in mailoutbox if m.to == ["li@ybj.example"])
    assert staff.body.startswith(f"通知单 {notice.number}（案件 AC2026-0000001，单位1有限公司，")
    assert "的缴款期限已于 2026-03-11 届满且未缴款" in staff.body


def test_a_rule_switched_off_cancels_its_reminders_when_they_fall_due(notice):
    # given
    rule = ReminderRule.objects.get(code="notice_deadline_approaching")
    reminder_rule_change(rule_id=rule.pk, enabled=False, days=2, actor=SYSTEM)

    # when
    reminders_send_due(now=at(date(2026, 3, 9)))

    # then
    assert Reminder.objects.get(rule=rule).state == "cancelled"
    assert kinds() == []


def test_changing_a_rule_s_days_moves_the_reminders_not_yet_sent(notice):
    # given reminders due 9 March (2 days before) and 12 March (1 day after)
    approaching = ReminderRule.objects.get(code="notice_deadline_approaching")
    overdue = ReminderRule.objects.get(code="notice_overdue")

    # when staff make it 3 days before, and 2 days after
    reminder_rule_change(rule_id=approaching.pk, enabled=True, days=3, actor=SYSTEM)
    reminder_rule_change(rule_id=overdue.pk, enabled=True, days=2, actor=SYSTEM)

    # then
    assert dict(Reminder.objects.values_list("rule__code", "due_at")) == {
        "notice_deadline_approaching": at(date(2026, 3, 8)),
        "notice_overdue": at(date(2026, 3, 13)),
    }


def test_a_rule_s_days_must_be_sensible_and_a_bad_value_changes_nothing():
    from django.core.exceptions import ValidationError

    rule = ReminderRule.objects.get(code="notice_overdue")
    with pytest.raises(ValidationError) as refused:
        reminder_rule_change(rule_id=rule.pk, enabled=True, days=400, actor=SYSTEM)
    assert list(refused.value.message_dict) == ["days"]
    assert ReminderRule.objects.get(pk=rule.pk).days == 1


def test_scheduling_again_adds_nothing_and_replaying_the_job_sends_nothing_twice(notice):
    # given
    count = Reminder.objects.count()

    # when the daily scheduling and the periodic job run twice each
    for _ in range(2):
        reminders_schedule(as_of=date(2026, 3, 5))
    for _ in range(2):
        reminders_send_due(now=at(date(2026, 3, 9)))

    # then
    assert Reminder.objects.count() == count == 2
    assert len(kinds()) == 2


def test_the_periodic_task_sends_due_reminders_and_queues_their_messages(
    notice, mailoutbox, django_capture_on_commit_callbacks
):
    # given the approaching reminder is due
    Reminder.objects.filter(rule__code="notice_deadline_approaching").update(
        due_at=at(date(2026, 3, 1))
    )

    # when the short periodic job runs (twice: a replay)
    with django_capture_on_commit_callbacks(execute=True):
        first = dispatch_task.apply().get()
        second = dispatch_task.apply().get()

    # then
    assert first == {"reminders": 1, "queued": 2}
    assert second == {"reminders": 0, "queued": 0}
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    [email] = mailoutbox
    assert email.subject == f"通知单 {notice.number}：请于 2026-03-11 前缴款"


class FakeInstallments(ReminderSource):
    """What issue 3 provides for the installment rules, here as plain data."""

    rule = "installment_due_7"
    subject = "installment"

    def __init__(self, due: dict[int, date], unit_id: int):
        self.due, self.unit_id = due, unit_id

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        # A source may ignore `unscheduled_for`: the insert skips reminders already there.
        for pk, day in self.due.items():
            if (subject_ids is None or pk in subject_ids) and (
                anchored_by is None or day <= anchored_by
            ):
                yield Anchor(subject_id=pk, anchor=day)

    def still_due(self, subject_ids):
        return set(subject_ids)

    def messages(self, due):
        return [
            Outgoing(
                dedupe_key=f"reminder:{r.pk}:portal",
                kind=Kind.INSTALLMENT_DUE,
                channel="portal",
                unit_id=self.unit_id,
                context={
                    "unit_name": "单位1有限公司",
                    "installment_no": "2",
                    "agreement_no": "A310101-2026-000001",
                    "amount": "500.00",
                    "due_date": r.anchor.isoformat(),
                    "agency_name": "医疗保障事务中心",
                    "agency_contact": "12393",
                },
            )
            for r in due
        ]


def test_a_source_registered_for_an_installment_rule_is_scheduled_and_sent(monkeypatch, notice):
    # given issue 3's source for the 7-days-before rule
    monkeypatch.setitem(
        reminders.SOURCES,
        "installment_due_7",
        FakeInstallments({41: date(2026, 4, 15)}, Unit.objects.get().pk),
    )

    # when the daily scheduling runs, then the job at 09:00 seven days before
    reminders_schedule(as_of=date(2026, 4, 1))
    reminders_send_due(now=at(date(2026, 4, 8)))

    # then
    reminder = Reminder.objects.get(rule__code="installment_due_7")
    assert (reminder.subject, reminder.subject_id, reminder.due_at) == (
        "installment",
        41,
        at(date(2026, 4, 8)),
    )
    assert reminder.state == "sent"
    message = Notification.objects.get(kind=Kind.INSTALLMENT_DUE)
    assert message.context["due_date"] == "2026-04-15"


def test_a_rule_without_a_source_waits_and_an_unknown_rule_cannot_be_registered():
    with pytest.raises(ValueError, match="no reminder rule 'nonsense'"):

        class Nonsense(ReminderSource):
            rule = "nonsense"

        reminders.register(Nonsense())


def test_the_daily_run_schedules_the_reminders_due_by_the_next_run_only(monkeypatch, notice):
    # given two installments due on 15 April and 15 May, reminded seven days before
    monkeypatch.setitem(
        reminders.SOURCES,
        "installment_due_7",
        FakeInstallments({41: date(2026, 4, 15), 42: date(2026, 5, 15)}, Unit.objects.get().pk),
    )

    def scheduled() -> set[int]:
        return set(
            Reminder.objects.filter(rule__code="installment_due_7").values_list(
                "subject_id", flat=True
            )
        )

    # when the daily run of 6 April runs / then nothing is due by 7 April
    daily_run(as_of=date(2026, 4, 6))
    assert scheduled() == set()
    # when that of 7 April runs / then April's reminder (8 April, 09:00) is there, not May's
    daily_run(as_of=date(2026, 4, 7))
    assert scheduled() == {41}
    assert Reminder.objects.get(subject_id=41).due_at == at(date(2026, 4, 8))
    # when that of 7 May runs / then May's too
    daily_run(as_of=date(2026, 5, 7))
    assert scheduled() == {41, 42}
