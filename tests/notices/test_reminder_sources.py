"""The reminders of the write-off (to audit, while an application waits for its decision) and of
the unmatched arrivals (to finance): when they are due, their exact text, once only."""

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from notices.messages import message_render
from notices.models import Notification, Reminder
from notices.reminders import reminders_schedule, reminders_send_due
from operations.daily import daily_run
from replenish.departments import AUDIT, COLLECTION
from replenish.models import ArrearsCase, Arrival, WriteOffApplication
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.arrival import arrival_match
from replenish.services.transitions import transition_apply
from replenish.services.writeoff import writeoff_accept, writeoff_approve
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    at_nine,
    case_of,
    department_user,
    go_bankrupt,
    import_arrivals,
    import_rows,
    pay,
    submitted_writeoff,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def english(kind: str, context: dict) -> str:
    return message_render(kind, context, channel="email", language="en").body


def staff_messages() -> list[tuple[str, str, str]]:
    return [
        (
            n.kind,
            n.department,
            message_render(n.kind, n.context, channel="email", language="en").body,
        )
        for n in Notification.objects.exclude(department="").order_by("pk")
    ]


@pytest.fixture
def waiting():
    """Unit 1 bankrupt, owing 1,012.50; its application accepted by collection on 2 March 2026:
    the 30-day reminder to audit is due on 1 April at 09:00."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = go_bankrupt(case_of(sample_uscc(1)))
    application = submitted_writeoff(case)
    writeoff_accept(application_id=application.pk, actor=department_user(COLLECTION, "clerk"))
    # the acceptance happened on 2 March (the service stamps the real time)
    WriteOffApplication.objects.filter(pk=application.pk).update(
        accepted_at=datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
    )
    return WriteOffApplication.objects.get(pk=application.pk)


def test_audit_is_reminded_of_an_application_waiting_30_days_once(waiting):
    # when the scheduling runs twice and the job runs the evening before, at 09:00 and later
    reminders_schedule(as_of=date(2026, 3, 2))
    reminders_schedule(as_of=date(2026, 3, 3))
    sent = [
        reminders_send_due(now=at_nine(date(2026, 3, 31))),
        reminders_send_due(now=at_nine(date(2026, 4, 1))),
        reminders_send_due(now=at_nine(date(2026, 4, 2))),
    ]

    # then one reminder, sent once at 09:00 on 1 April, to audit, with this text
    assert sent == [0, 1, 0]
    assert Reminder.objects.get().subject == "writeoff"
    assert staff_messages() == [
        (
            "writeoff_waiting",
            "audit",
            f"Write-off application {waiting.writeoff_no} (case {waiting.case.case_no}, "
            "1012.50 yuan) has waited for examination since 2026-03-02.",
        )
    ]
    subject = message_render(
        "writeoff_waiting", Notification.objects.get().context, channel="email", language="en"
    ).subject
    assert subject == f"Write-off {waiting.writeoff_no} waiting for 30 days"


def test_no_reminder_once_audit_has_decided(waiting):
    # given the reminder is scheduled, then audit approves before it is due
    reminders_schedule(as_of=date(2026, 3, 2))
    writeoff_approve(
        application_id=waiting.pk, actor=department_user(AUDIT, "auditor"), today=date(2026, 3, 5)
    )

    # when it falls due
    assert reminders_send_due(now=at_nine(date(2026, 4, 1))) == 0

    # then it is cancelled, nothing sent
    assert Reminder.objects.get().state == "cancelled"
    assert staff_messages() == []


def test_an_application_not_yet_accepted_is_not_waiting_in_audit():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    submitted_writeoff(go_bankrupt(case_of(sample_uscc(1))))
    reminders_schedule(as_of=date(2026, 3, 2))
    assert not Reminder.objects.filter(rule__code="writeoff_waiting").exists()


def test_finance_is_reminded_of_an_arrival_unmatched_7_days_once():
    # given an arrival of 100.00 from a payer with no case, on 1 March
    import_arrivals([ArrivalRowFactory(arrival_ref="BANK-LOST-1", unit_no=9)])

    # when the scheduling runs twice and the job runs on 7 and 8 March and again
    reminders_schedule(as_of=date(2026, 3, 1))
    reminders_schedule(as_of=date(2026, 3, 2))
    sent = [
        reminders_send_due(now=at_nine(date(2026, 3, 7))),
        reminders_send_due(now=at_nine(date(2026, 3, 8))),
        reminders_send_due(now=at_nine(date(2026, 3, 9))),
    ]

    # then one message to finance, on 8 March
    assert sent == [0, 1, 0]
    assert staff_messages() == [
        (
            "arrival_unmatched",
            "finance",
            f"Arrival BANK-LOST-1 of 100.00 yuan from {sample_uscc(9)} on 2026-03-01 has matched "
            "no case yet. Please resolve it.",
        )
    ]


def test_an_arrival_matched_by_hand_before_the_reminder_is_not_reminded_of():
    # given an unmatched arrival with its reminder scheduled, then matched by finance
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="BANK-LOST-1", unit_no=9)])
    reminders_schedule(as_of=date(2026, 3, 1))
    arrival = Arrival.objects.get(arrival_ref="BANK-LOST-1")
    arrival_match(arrival_id=arrival.pk, case_id=case_of(sample_uscc(1)).pk, actor=SYSTEM)

    # when it falls due, then nothing goes out
    assert reminders_send_due(now=at_nine(date(2026, 3, 8))) == 0
    assert staff_messages() == []


@pytest.fixture
def breached():
    """Unit 1's 1,000.00 agreed on 2026-03-01 in 3 installments, the first due 1 April unpaid:
    the daily run of 17 April (after the 15 grace days) breaches it."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    officer = department_user(COLLECTION, "officer")
    draft = agreement_draft(
        case_id=case_of(sample_uscc(1)).pk,
        installment_count=3,
        actor=officer,
        drafted_on=date(2026, 3, 1),
    )
    return agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 3, 1))


def test_a_breach_is_told_to_the_unit_and_to_collection_once(breached):
    # when the daily runs of 17 and 18 April run
    first = daily_run(as_of=date(2026, 4, 17))
    second = daily_run(as_of=date(2026, 4, 18))

    # then the breach went out once, on the unit's portal and to collection, with this text
    assert (first.agreements_breached, first.reminders_sent, second.reminders_sent) == (
        [breached.pk],
        1,
        0,
    )
    messages = Notification.objects.filter(kind="agreement_breached").order_by("pk")
    assert [(n.channel, n.department, n.unit_id) for n in messages] == [
        ("portal", "", breached.case.unit_id),
        ("email", "collection", None),
    ]
    assert english("agreement_breached", messages[1].context) == (
        "单位1有限公司:\n"
        f"Repayment agreement {breached.number} is breached: an installment stayed unpaid past "
        "its grace period. The late fee accrues again on the unpaid principal, and a new "
        "replenishment notice will follow.\n"
        f"{messages[1].context['agency_name']}, telephone {messages[1].context['agency_contact']}"
    )


def test_no_breach_reminder_for_a_case_under_write_off_examination(breached):
    # given the breach is found, but its case went into write-off before the reminder was due
    daily_run(as_of=date(2026, 4, 17), now=at_nine(date(2026, 4, 16)))
    reminder = Reminder.objects.get(rule__code="agreement_breached")

    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=breached.case_id)
        transition_apply(case, "writeoff_submit", actor=SYSTEM)

    # when it falls due, then nothing goes out
    assert reminders_send_due(now=at_nine(date(2026, 4, 17))) == 0
    reminder.refresh_from_db()
    assert reminder.state == "cancelled"
    assert not Notification.objects.filter(kind="agreement_breached").exists()


def test_an_unpaid_installment_is_reminded_7_days_and_1_day_before_and_1_day_after_once(breached):
    # given the agreement of `breached` before its breach: 1,022.50 in 3, the first 340.83 due
    # 1 April and nothing paid
    first = breached.installments.get(seq=1)
    assert (first.due_on, first.amount) == (date(2026, 4, 1), D("340.83"))

    # when the daily runs of 25 March (7 days before), 31 March (1 day before), 2 April (1 day
    # after) and 3 April run, each sending what is due by 09:00 that day
    sent = [
        daily_run(as_of=day, now=at_nine(day)).reminders_sent
        for day in (date(2026, 3, 25), date(2026, 3, 31), date(2026, 4, 2), date(2026, 4, 3))
    ]

    # then each reminder went out once, on the unit's portal inbox, with this text
    assert sent == [1, 1, 1, 0]
    messages = Notification.objects.filter(kind__startswith="installment").order_by("pk")
    assert [(n.kind, n.channel, n.unit_id) for n in messages] == [
        ("installment_due", "portal", breached.case.unit_id),
        ("installment_due", "portal", breached.case.unit_id),
        ("installment_overdue", "portal", breached.case.unit_id),
    ]
    assert english("installment_due", messages[0].context) == (
        "单位1有限公司:\n"
        f"Installment 1 of agreement {breached.number}, 340.83 yuan, is due on 2026-04-01. "
        f"Please pay it in time, quoting {breached.number}.\n"
        f"{messages[0].context['agency_name']}, telephone {messages[0].context['agency_contact']}"
    )


def test_a_paid_installment_is_not_reminded(breached):
    # given the first installment paid in full before its reminders
    pay(breached.case_id, "340.83", on=date(2026, 3, 20))

    # when the daily runs around its due date run
    sent = [
        daily_run(as_of=day, now=at_nine(day)).reminders_sent
        for day in (date(2026, 3, 25), date(2026, 3, 31), date(2026, 4, 2))
    ]

    # then nothing about the first installment went out
    assert sent == [0, 0, 0]
    assert not Notification.objects.filter(kind__startswith="installment").exists()
