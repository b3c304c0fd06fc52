"""A returned write-off application is no dead end: the liquidation group (portal) or collection
withdraws it and the case returns to the state it came from; while it waits, the group and
collection are reminded after `writeoff_returned` days (15 by default)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notices.models import Notification, Reminder, ReminderRule
from notices.reminders import reminders_schedule, reminders_send_due
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase, AuditEntry, CaseState, WriteOffApplication
from replenish.services.writeoff import writeoff_return, writeoff_withdraw
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    all_table_counts,
    at_nine,
    case_of,
    department_user,
    go_bankrupt,
    import_rows,
    portal_user,
    submitted_writeoff,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def returned():
    """Unit 1 bankrupt, its case registered; its group's application returned for a missing
    document on 2 March 2026."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = go_bankrupt(case_of(sample_uscc(1)))
    application = submitted_writeoff(case)
    writeoff_return(application_id=application.pk, reason="缺清算报告", actor=SYSTEM)
    WriteOffApplication.objects.filter(pk=application.pk).update(
        state_changed_at=datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
    )
    return WriteOffApplication.objects.select_related("case").get(pk=application.pk)


def test_the_group_withdraws_a_returned_application_and_the_case_returns(returned):
    # given the case waits in `writeoff`, having come from `registered`
    assert returned.case.state == CaseState.WRITEOFF
    group = portal_user("qingsuan", counterparty=returned.case.obligor)

    # when the liquidation group withdraws it in the portal
    writeoff_withdraw(application_id=returned.pk, actor=group, reason="不再申请")

    # then the application is withdrawn and the case is registered again, both audited
    assert WriteOffApplication.objects.get(pk=returned.pk).state == "withdrawn"
    case = ArrearsCase.objects.get(pk=returned.case_id)
    assert (case.state, case.state_before_writeoff) == (CaseState.REGISTERED, "")
    trail = list(
        AuditEntry.objects.filter(case_id=case.pk, transition__contains="withdraw")
        .order_by("id")
        .values_list("subject", "from_state", "to_state", "actor_label")
    )
    assert trail == [
        ("writeoffapplication", "returned", "withdrawn", "qingsuan"),
        ("case", "writeoff", "registered", "system:portal:qingsuan"),
    ]


def test_collection_withdraws_it_for_the_group(returned):
    writeoff_withdraw(application_id=returned.pk, actor=department_user(COLLECTION, "clerk"))
    assert ArrearsCase.objects.get(pk=returned.case_id).state == CaseState.REGISTERED


@pytest.mark.parametrize("department", [FINANCE, AUDIT])
def test_nobody_else_withdraws_it(returned, department):
    before = all_table_counts()
    with pytest.raises(PermissionDenied):
        writeoff_withdraw(application_id=returned.pk, actor=department_user(department))
    assert all_table_counts() == before


def test_only_a_returned_application_is_withdrawn(returned):
    from replenish.services.writeoff import writeoff_accept, writeoff_resubmit
    from tests.factories import writeoff_uploads

    writeoff_resubmit(application_id=returned.pk, documents=writeoff_uploads(), actor=SYSTEM)
    writeoff_accept(application_id=returned.pk, actor=SYSTEM)
    before = all_table_counts()
    with pytest.raises(ValidationError):
        writeoff_withdraw(application_id=returned.pk, actor=SYSTEM)
    assert all_table_counts() == before


def test_collection_is_reminded_after_15_days_and_not_once_withdrawn(returned):
    # when the scheduling runs and the job runs on 16 and 17 March at 09:00
    reminders_schedule(as_of=date(2026, 3, 2))
    sent = [
        reminders_send_due(now=at_nine(date(2026, 3, 16))),
        reminders_send_due(now=at_nine(date(2026, 3, 17))),
        reminders_send_due(now=at_nine(date(2026, 3, 18))),
    ]

    # then one reminder to collection on 17 March (15 days after 2 March)
    assert sent == [0, 1, 0]
    message = Notification.objects.get(kind="writeoff_returned")
    assert (message.department, message.context["reason"]) == ("collection", "缺清算报告")
    assert Reminder.objects.get().subject == "writeoff"


def test_the_days_are_the_rules_and_a_withdrawn_application_is_not_reminded(returned):
    ReminderRule.objects.filter(code="writeoff_returned").update(days=3)
    reminders_schedule(as_of=date(2026, 3, 2))
    writeoff_withdraw(application_id=returned.pk, actor=SYSTEM)
    assert reminders_send_due(now=at_nine(date(2026, 3, 5))) == 0
    assert not Notification.objects.filter(kind="writeoff_returned").exists()
