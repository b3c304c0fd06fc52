"""Notifications: rows with dedupe keys, sent after commit, retried, swept, visible when failed."""

import io
import json
from datetime import date, timedelta

import pypdf
import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from notices.messages import Kind
from notices.models import Notice, NoticeState, Notification
from notices.outbox import Outgoing, notifications_create, notifications_sweep
from notices.sending import notification_read, notification_send, notifications_retry
from notices.services import case_issue_notice
from notices.sms import FileSmsBackend, LocmemSmsBackend, SendError, SentSms
from notices.tasks import notification_send_task
from replenish.models import ArrearsCase
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UnitContactFactory,
    UserFactory,
    import_rows,
)
from units.models import Unit
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
ISSUED_ON = date(2026, 3, 1)


@pytest.fixture
def case() -> ArrearsCase:
    """A registered case of 1,000.00 (due 2026-01-15) of a unit with e-mail and mobile."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    UnitContactFactory(
        unit=Unit.objects.get(), email="caiwu@danwei1.example.cn", mobile="13912345678"
    )
    return ArrearsCase.objects.get()


def issue(case, capture, *, execute=True) -> Notice:
    with capture(execute=execute):
        return case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=ISSUED_ON)


def minutes_pass(minutes: int) -> None:
    """As if `minutes` went by: every waiting message falls due that much earlier."""
    Notification.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(minutes=minutes))


def states() -> dict[str, str]:
    return dict(Notification.objects.values_list("channel", "state"))


def test_issuing_creates_one_message_per_channel_and_sends_none_before_commit(
    case, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    # when the notice is issued, and the transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=ISSUED_ON)

    # then three messages wait, and nothing went out
    assert sorted(
        Notification.objects.values_list("dedupe_key", "channel", "address", "state")
    ) == [
        (f"notice:{notice.pk}:issued:email", "email", "caiwu@danwei1.example.cn", "pending"),
        (f"notice:{notice.pk}:issued:portal", "portal", "", "pending"),
        (f"notice:{notice.pk}:issued:sms", "sms", "13912345678", "pending"),
    ]
    assert (mailoutbox, sms_outbox, len(callbacks)) == ([], [], 1)


def test_after_commit_every_channel_gets_its_exact_text_and_the_email_delivers_the_notice(
    case, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    # when
    notice = issue(case, django_capture_on_commit_callbacks)

    # then the e-mail (Chinese, the default) carries the text and the notice as a PDF
    assert states() == {"portal": "sent", "email": "sent", "sms": "sent"}
    [email] = mailoutbox
    assert email.to == ["caiwu@danwei1.example.cn"]
    assert email.subject == f"社会保险费补缴通知单 {notice.number}"
    assert email.body == (
        "单位1有限公司：\n"
        "你单位欠缴社会保险费及滞纳金共计 1022.50 元（案件 AC2026-0000001）。请自收到本通知之日起 "
        f"5 个工作日内缴纳，缴款时注明通知单编号 {notice.number}。未缴费款的滞纳金按日继续加收，"
        "至缴清之日止。通知单全文见单位网厅消息箱。\n"
        "医疗保障事务中心，电话 12393"
    )
    assert email.extra_headers["Message-ID"] == f"<notice.{notice.pk}.issued.email@ybj.example>"
    [(name, content, mimetype)] = email.attachments
    assert (name, mimetype) == (f"{notice.number}.pdf", "application/pdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "单位1有限公司" in text and "1,022.50" in text
    assert sms_outbox == [
        SentSms(
            to="13912345678",
            text=(
                f"【医疗保障事务中心】单位1有限公司：补缴通知单 {notice.number}，应缴 1022.50 元，"
                f"请于收到之日起 5 个工作日内缴纳，缴款时注明 {notice.number}。电话 12393"
            ),
            reference=f"notice:{notice.pk}:issued:sms",
        )
    ]
    # and the e-mail delivered the notice: its time limit runs from the day it was sent
    notice.refresh_from_db()
    assert (notice.state, notice.delivery_channel) == (NoticeState.DELIVERED, "email")
    assert notice.delivered_on == timezone.localdate()
    assert Notification.objects.get(channel="email").body == email.body


def test_replaying_every_send_task_twice_sends_nothing_twice(
    case, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    # given the messages were sent
    issue(case, django_capture_on_commit_callbacks)
    sent = (len(mailoutbox), list(sms_outbox))

    # when every task is replayed, twice
    outcomes = [
        notification_send_task.apply(args=(pk,)).get()
        for pk in Notification.objects.values_list("pk", flat=True)
        for _replay in range(2)
    ]

    # then
    assert set(outcomes) == {"skipped"}
    assert (len(mailoutbox), list(sms_outbox)) == sent


def test_creating_the_same_message_again_adds_nothing(case, django_capture_on_commit_callbacks):
    # given
    message = Outgoing(dedupe_key="k:1", kind=Kind.NOTICE_ISSUED, channel="portal", context={})
    notifications_create([message])

    # when
    notifications_create([message])

    # then
    assert Notification.objects.filter(dedupe_key="k:1").count() == 1


def test_a_transient_failure_is_retried_with_backoff_by_the_sweep(
    case, django_capture_on_commit_callbacks, sms_outbox
):
    # given the SMS gateway times out once
    LocmemSmsBackend.failures = [SendError("gateway timeout")]
    notice = issue(case, django_capture_on_commit_callbacks)
    sms = Notification.objects.get(channel="sms")
    assert (sms.state, sms.attempts, sms.last_error) == (
        "pending",
        1,
        "SendError: gateway timeout",
    )
    assert timedelta(minutes=1) <= sms.next_attempt_at - sms.created_at < timedelta(minutes=2)

    # when the sweep runs before the backoff is over, then after it
    early = notifications_sweep()
    minutes_pass(1)
    late = notifications_sweep()

    # then it was sent once, by the second sweep
    assert (early, late) == (0, 1)
    sms.refresh_from_db()
    assert (sms.state, sms.attempts, sms.last_error) == ("sent", 2, "")
    assert [s.reference for s in sms_outbox] == [f"notice:{notice.pk}:issued:sms"]


def test_a_delivery_message_that_fails_leaves_its_notice_undelivered_and_no_trace_of_the_send(
    case, django_capture_on_commit_callbacks, settings, sms_outbox
):
    # given SMS is the only channel that delivers, and the gateway times out once
    settings.NOTICE_SEND_CHANNELS = ["portal", "sms"]
    LocmemSmsBackend.failures = [SendError("gateway timeout")]

    # when the notice is issued and its SMS fails
    notice = issue(case, django_capture_on_commit_callbacks)

    # then the notice was not delivered by it (its time limit has not started), and the SMS
    # waits with the attempt counted and no sent time or text
    notice.refresh_from_db()
    assert (notice.state, notice.delivered_on, notice.delivery_channel) == (
        NoticeState.ISSUED,
        None,
        "",
    )
    sms = Notification.objects.get(channel="sms")
    assert (sms.state, sms.attempts, sms.sent_at, sms.body) == ("pending", 1, None, "")
    assert sms_outbox == []

    # when it goes through on the next attempt, it delivers the notice that day
    minutes_pass(1)
    assert notifications_sweep() == 1
    notice.refresh_from_db()
    assert (notice.state, notice.delivery_channel) == (NoticeState.DELIVERED, "sms")


def test_the_file_gateway_takes_a_reference_once_and_records_a_repeated_offer(settings, tmp_path):
    # given the gateway on disk (the one tests of real workers read)
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    gateway = FileSmsBackend()

    # when one message is offered twice under its reference, and another once
    gateway.send(to="13912345678", text="第一条", reference="notice:1:issued:sms")
    gateway.send(to="13912345678", text="第一条", reference="notice:1:issued:sms")
    gateway.send(to="13912345679", text="第二条", reference="notice:2:issued:sms")

    # then the phones got each once, and the repeat is on record
    accepted = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [(m["to"], m["reference"]) for m in accepted] == [
        ("13912345678", "notice:1:issued:sms"),
        ("13912345679", "notice:2:issued:sms"),
    ]
    repeated = (tmp_path / "sms.repeated").read_text().splitlines()
    assert [json.loads(line)["reference"] for line in repeated] == ["notice:1:issued:sms"]


def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(
    case, django_capture_on_commit_callbacks, settings
):
    # given a gateway that always fails, and three attempts allowed
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    LocmemSmsBackend.failures = [SendError(f"timeout {n}") for n in range(1, 4)]
    issue(case, django_capture_on_commit_callbacks)
    sms = Notification.objects.get(channel="sms")

    # when retried as the backoff allows (1, then 2 minutes)
    minutes_pass(1)
    notifications_sweep()
    minutes_pass(2)
    notifications_sweep()

    # then
    sms.refresh_from_db()
    assert (sms.state, sms.attempts, sms.last_error) == ("failed", 3, "SendError: timeout 3")


def test_a_permanent_failure_is_not_retried_and_staff_can_retry_it(
    case, django_capture_on_commit_callbacks, sms_outbox
):
    # given a wrong number
    LocmemSmsBackend.failures = [SendError("number does not exist", permanent=True)]
    issue(case, django_capture_on_commit_callbacks)
    sms = Notification.objects.get(channel="sms")
    assert (sms.state, sms.attempts) == ("failed", 1)
    assert notifications_sweep(now=timezone.now() + timedelta(days=1)) == 0

    # when a collector retries it
    collector = UserFactory(permissions=["notices.retry_notification"])
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_retry(notification_ids=[sms.pk], actor=collector) == 1

    # then
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == ("sent", 2)
    assert len(sms_outbox) == 1


def test_only_failed_messages_can_be_retried(case, django_capture_on_commit_callbacks):
    issue(case, django_capture_on_commit_callbacks)
    portal = Notification.objects.get(channel="portal")
    with pytest.raises(ValidationError, match="portal"):
        notifications_retry(notification_ids=[portal.pk], actor=SYSTEM)
    assert Notification.objects.get(pk=portal.pk).state == "sent"


def test_with_the_broker_down_the_action_succeeds_and_the_sweep_sends_later(
    case, django_capture_on_commit_callbacks, monkeypatch, mailoutbox, sms_outbox
):
    # given a broker that refuses every message
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(notification_send_task, "apply_async", broker_down)

    # when a notice is issued
    notice = issue(case, django_capture_on_commit_callbacks)

    # then it is issued, and its messages wait, none queued
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.ISSUED
    assert set(Notification.objects.values_list("state", "enqueued_at")) == {("pending", None)}
    assert notifications_sweep() == 0
    assert (mailoutbox, sms_outbox) == ([], [])

    # when the broker is back and the sweep runs
    monkeypatch.undo()
    queued = notifications_sweep()

    # then each was sent, once
    assert queued == 3
    assert states() == {"portal": "sent", "email": "sent", "sms": "sent"}
    assert (len(mailoutbox), len(sms_outbox)) == (1, 1)
    assert notifications_sweep(now=timezone.now() + timedelta(hours=1)) == 0


def test_a_message_queued_but_lost_is_queued_again_after_the_requeue_time(case, settings):
    # given a message queued (its task lost with the broker) ten minutes ago
    now = timezone.now()
    Notification.objects.create(
        dedupe_key="lost",
        kind=Kind.NOTICE_ISSUED,
        channel="portal",
        context={
            "unit_name": "u",
            "unit_uscc": "x",
            "case_no": "c",
            "notice_no": "n",
            "total": "1",
            "issued_on": "d",
            "working_days": "5",
            "agency_name": "a",
            "agency_contact": "t",
        },
        next_attempt_at=now - timedelta(minutes=10),
        enqueued_at=now - timedelta(minutes=settings.NOTIFICATION_REQUEUE_MINUTES - 1),
    )

    # when / then: not yet, then yes
    assert notifications_sweep(now=now) == 0
    assert notifications_sweep(now=now + timedelta(minutes=2)) == 1
    assert Notification.objects.get(dedupe_key="lost").state == "sent"


def test_a_task_for_a_message_not_due_yet_does_nothing(case, django_capture_on_commit_callbacks):
    # given a message waiting for its retry
    LocmemSmsBackend.failures = [SendError("timeout")]
    issue(case, django_capture_on_commit_callbacks)
    sms = Notification.objects.get(channel="sms")

    # when a stray task runs now / then it waits for the backoff
    assert notification_send(notification_id=sms.pk) == "not due"
    assert Notification.objects.get(pk=sms.pk).attempts == 1


def test_a_department_message_goes_to_the_e_mail_of_its_staff_or_fails_visibly(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    # given the collection department has no one with an address
    assert Group.objects.filter(name="征缴部门").exists()
    message = Outgoing(
        dedupe_key="dept:1",
        kind=Kind.NOTICE_OVERDUE_STAFF,
        channel="email",
        department="collection",
        context={
            "unit_name": "单位1有限公司",
            "unit_uscc": sample_uscc(1),
            "case_no": "AC2026-0000001",
            "notice_no": "N310101-2026-000001",
            "deadline": "2026-03-09",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications_create([message])
    failed = Notification.objects.get(dedupe_key="dept:1")
    assert failed.state == "failed"
    assert failed.last_error == (
        "SendError: no active user of the group '征缴部门' has an e-mail address"
    )

    # when two collectors get addresses and staff retry
    for name in ("li", "wang"):
        UserFactory(username=name, email=f"{name}@ybj.example").groups.add(
            Group.objects.get(name="征缴部门")
        )
    with django_capture_on_commit_callbacks(execute=True):
        notifications_retry(notification_ids=[failed.pk], actor=SYSTEM)

    # then
    [email] = mailoutbox
    assert email.to == ["li@ybj.example", "wang@ybj.example"]
    assert email.subject == "逾期：案件 AC2026-0000001，通知单 N310101-2026-000001"


def test_the_unit_reading_the_notice_in_its_portal_inbox_delivers_it(
    db, django_capture_on_commit_callbacks
):
    # given a unit with no e-mail or mobile: its notice reaches only the portal inbox
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    notice = issue(ArrearsCase.objects.get(), django_capture_on_commit_callbacks)
    portal = Notification.objects.get()
    assert (portal.channel, portal.state) == ("portal", "sent")
    assert Notice.objects.get().state == NoticeState.ISSUED  # in the inbox, not yet read

    # when the unit opens it
    notification_read(notification_id=portal.pk, actor=SYSTEM)

    # then
    notice.refresh_from_db()
    assert (notice.state, notice.delivery_channel) == (NoticeState.DELIVERED, "portal")
    assert notice.delivered_on == timezone.localdate()
    assert Notification.objects.get().read_at is not None


def test_a_delivery_message_of_a_notice_superseded_before_it_went_out_is_not_sent(
    case, django_capture_on_commit_callbacks, sms_outbox
):
    # given the notice's messages are still waiting (not committed yet) when it is superseded
    with django_capture_on_commit_callbacks(execute=False):
        notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=ISSUED_ON)
    Notice.objects.filter(pk=notice.pk).update(state=NoticeState.SUPERSEDED)

    # when the SMS task runs
    sms = Notification.objects.get(channel="sms")
    outcome = notification_send(notification_id=sms.pk)

    # then nothing went out, and staff see why
    sms.refresh_from_db()
    assert (outcome, sms.state, sms_outbox) == ("failed", "failed", [])
    assert sms.last_error == f"notice {notice.number} was superseded before this message went out"
