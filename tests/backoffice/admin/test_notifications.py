"""Admin screens of notifications, reminder rules and the postal delivery form."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notices.models import Notice, Notification, ReminderRule
from notices.services import case_issue_notice
from notices.sms import LocmemSmsBackend, SendError
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, UnitContactFactory, import_rows, receipt
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_sms(django_capture_on_commit_callbacks):
    """A notice whose SMS failed for good (the number does not exist)."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    UnitContactFactory(unit=Unit.objects.get(), email="", mobile="13912345678")
    LocmemSmsBackend.failures = [SendError("number does not exist", permanent=True)]
    with django_capture_on_commit_callbacks(execute=True):
        case_issue_notice(
            case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
        )
    return Notification.objects.get(channel="sms")


def test_the_list_shows_state_attempts_and_the_last_error_and_filters_the_failed(
    staff_client, failed_sms
):
    # when
    url = reverse("admin:notices_notification_changelist")
    html = staff_client.get(url + "?state__exact=failed").content.decode()

    # then only the failed SMS is listed, with why
    assert '<td class="field-state">发送失败</td>' in html
    assert '<td class="field-attempts">1</td>' in html
    assert "SendError: number does not exist" in html
    assert "13912345678" in html
    assert html.count('class="action-checkbox"') == 1


def test_the_list_takes_the_same_queries_for_one_message_or_many(staff_client, failed_sms):
    url = reverse("admin:notices_notification_changelist")
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for n in range(30):
        Notification.objects.create(
            dedupe_key=f"extra:{n}", kind="notice_issued", channel="portal", unit=Unit.objects.get()
        )
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(one)


def test_the_retry_action_sends_a_failed_message_again(
    staff_client, failed_sms, django_capture_on_commit_callbacks, sms_outbox
):
    # when staff select it and retry (the number was corrected meanwhile: the gateway takes it)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:notices_notification_changelist"),
            {"action": "retry", "_selected_action": [failed_sms.pk]},
            follow=True,
        )

    # then
    assert "已重新排队 1 条通知；0 条未失败，未作处理。" in response.content.decode()
    failed_sms.refresh_from_db()
    assert (failed_sms.state, failed_sms.attempts) == ("sent", 2)
    assert [s.to for s in sms_outbox] == ["13912345678"]


def test_staff_set_a_reminder_rule_in_the_list(staff_client):
    # given
    rule = ReminderRule.objects.get(code="notice_overdue")
    url = reverse("admin:notices_reminderrule_changelist")
    rules = list(ReminderRule.objects.order_by("id"))
    data = {
        "form-TOTAL_FORMS": len(rules),
        "form-INITIAL_FORMS": len(rules),
        "_save": "Save",
    }
    for i, r in enumerate(rules):
        data[f"form-{i}-id"] = r.pk
        data[f"form-{i}-days"] = 3 if r.pk == rule.pk else r.days
        if r.enabled and r.pk != rule.pk:
            data[f"form-{i}-enabled"] = "on"

    # when the overdue rule is switched off and set to 3 days
    response = staff_client.post(url, data)

    # then
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.enabled, rule.days) == (False, 3)


def test_staff_record_a_delivery_by_post_with_the_receipt(staff_client, failed_sms):
    # given
    notice = Notice.objects.get()
    url = reverse("admin:notices_notice_deliver", args=[notice.pk])
    assert (
        "登记送达"
        in staff_client.get(
            reverse("admin:notices_notice_change", args=[notice.pk])
        ).content.decode()
    )

    # when the form is posted without the receipt, then with it
    missing = staff_client.post(url, {"channel": "post", "delivered_on": "2026-03-04"})
    done = staff_client.post(
        url, {"channel": "post", "delivered_on": "2026-03-04", "proof": receipt()}
    )

    # then
    assert "邮寄送达须上传回执扫描件作为送达凭证" in missing.content.decode()
    assert done.status_code == 302
    notice.refresh_from_db()
    assert (notice.state, notice.delivered_on, notice.deadline) == (
        "delivered",
        date(2026, 3, 4),
        date(2026, 3, 11),
    )
