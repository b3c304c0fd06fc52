"""Every task of the scheduler and of notifications, replayed twice, sends nothing twice."""

from datetime import date

import pytest
from django.contrib.auth.models import Group

from notices.models import Notification, Reminder
from notices.selectors import unit_inbox
from notices.services import case_issue_notice
from notices.tasks import dispatch_task, notification_send_task, notifications_sweep_task
from operations.tasks import run_daily_task
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


def test_replaying_every_task_twice_sends_nothing_twice(
    django_capture_on_commit_callbacks, mailoutbox, sms_outbox, settings
):
    # given a notice sent to the portal inbox only, delivered by post on 4 March 2026, whose
    # deadline (11 March) passed unpaid; the unit has e-mail and mobile for the reminders
    settings.NOTICE_SEND_CHANNELS = ["portal"]
    UserFactory(username="li", email="li@ybj.example").groups.add(
        Group.objects.get(name="征缴部门")
    )
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    UnitContactFactory(unit=Unit.objects.get(), email="caiwu@danwei1.example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        notice = case_issue_notice(
            case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
        )
    deliver(notice, date(2026, 3, 4))
    sent_at_issue = (len(mailoutbox), len(sms_outbox))

    # when every task runs, and then every task is replayed twice
    def every_task():
        with django_capture_on_commit_callbacks(execute=True):
            run_daily_task.apply(args=("2026-03-12",)).get()
            dispatch_task.apply().get()
            notifications_sweep_task.apply().get()
            for pk in Notification.objects.values_list("pk", flat=True):
                notification_send_task.apply(args=(pk,)).get()

    every_task()
    after_first = (
        len(mailoutbox),
        len(sms_outbox),
        Notification.objects.count(),
        sorted(Reminder.objects.values_list("state", flat=True)),
    )
    every_task()
    every_task()

    # then the replays sent and created nothing
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE
    assert after_first[:2] > sent_at_issue  # the overdue reminder went out the first time
    assert (
        len(mailoutbox),
        len(sms_outbox),
        Notification.objects.count(),
        sorted(Reminder.objects.values_list("state", flat=True)),
    ) == after_first
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert [m.kind for m in unit_inbox(Unit.objects.get().pk)] == [
        "notice_overdue",
        "notice_issued",
    ]
