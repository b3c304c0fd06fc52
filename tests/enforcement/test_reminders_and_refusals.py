"""The court-window reminder to collection, and the refusals of bad input: each says where and
why, and changes nothing."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from enforcement.models import Dossier, DossierState
from enforcement.services import (
    BankReply,
    GuaranteeGiven,
    dossier_close,
    dossier_deferred_sign,
    dossier_document_deliver,
    dossier_inquiry_answer,
    dossier_open,
    dossier_transfer_grant,
)
from notices.messages import message_render
from notices.models import Department, Notification, Reminder
from operations.daily import daily_run
from tests.enforcement.helpers import (
    AFTER_DEMAND,
    OPENED,
    SERVED,
    Staff,
    dossier_at,
    overdue_case,
)
from tests.factories import SYSTEM, all_table_counts, at_nine

pytestmark = pytest.mark.django_db


def unchanged(call) -> ValidationError:
    before = (all_table_counts(), sorted(Dossier.objects.values_list("pk", "state")))
    with pytest.raises(ValidationError) as refused:
        call()
    assert (all_table_counts(), sorted(Dossier.objects.values_list("pk", "state"))) == before
    return refused.value


def test_collection_is_reminded_before_the_court_window_closes():
    # given a dossier whose demand was served (window 2026-09-03 to 2026-12-02)
    dossier = dossier_at("demand_served", Staff())

    # when the daily run reaches 30 days before the window closes
    daily_run(as_of=date(2026, 11, 1), now=at_nine(date(2026, 11, 1)))
    assert not Notification.objects.filter(kind="court_window_closing").exists()
    daily_run(as_of=date(2026, 11, 2), now=at_nine(date(2026, 11, 2)))

    # then the collection department got the reminder, in Chinese, once
    message = Notification.objects.get(kind="court_window_closing")
    assert message.department == Department.COLLECTION
    text = message_render(message.kind, message.context, channel="email", language="zh-hans")
    assert text.subject == f"案卷 {dossier.dossier_no}：请于 2026-12-02 前申请法院强制执行"
    assert "申请人民法院强制执行的期限于 2026-12-02 届满" in text.body
    daily_run(as_of=date(2026, 11, 3), now=at_nine(date(2026, 11, 3)))
    assert Notification.objects.filter(kind="court_window_closing").count() == 1
    assert Reminder.objects.get(subject="dossier").subject_id == dossier.pk


def test_no_reminder_for_a_dossier_already_at_court():
    dossier_at("court_applied", Staff())
    daily_run(as_of=date(2026, 11, 2), now=at_nine(date(2026, 11, 2)))
    assert not Notification.objects.filter(kind="court_window_closing").exists()


def test_bad_replies_are_refused_line_by_line():
    staff = Staff()
    dossier = dossier_at("inquiry_sent", staff)
    refused = unchanged(
        lambda: dossier_inquiry_answer(
            dossier_id=dossier.pk,
            replies=[
                BankReply("中国银行", "1", "-5.00", AFTER_DEMAND, AFTER_DEMAND),
                BankReply("中国银行", "2", "abc", AFTER_DEMAND, AFTER_DEMAND),
                BankReply("", "3", "1.00", AFTER_DEMAND, date(2027, 1, 1)),
            ],
            actor=staff.clerk,
            today=AFTER_DEMAND,
        )
    )
    assert refused.messages == [
        "Reply 1: the balance -5.00 must be a non-negative amount in fen.",
        "Reply 2: abc is not an amount.",
        "Reply 3: the bank and the account number are needed.",
        "Reply 3: the reply date is missing or in the future.",
    ]


def test_a_document_is_served_once_and_with_its_receipt():
    staff = Staff()
    dossier = dossier_at("demand_issued", staff)
    demand = dossier.documents.get()
    with translation.override("zh-hans"):
        refused = unchanged(
            lambda: dossier_document_deliver(
                document_id=demand.pk, channel="post", delivered_on=SERVED, actor=staff.clerk,
                today=SERVED,
            )
        )  # fmt: skip
    assert refused.message_dict == {"proof": ["邮寄送达或直接送达须上传签收的送达回证作为凭证。"]}
    dossier_document_deliver(
        document_id=demand.pk, channel="email", delivered_on=SERVED, actor=staff.clerk,
        today=SERVED,
    )  # fmt: skip
    refused = unchanged(
        lambda: dossier_document_deliver(
            document_id=demand.pk, channel="email", delivered_on=SERVED, actor=staff.clerk,
            today=SERVED,
        )
    )  # fmt: skip
    assert refused.messages == ["CG310101-2026-000001 was already served on 2026-03-12."]


def test_opening_twice_and_on_a_case_that_is_not_overdue_is_refused():
    staff = Staff()
    case = overdue_case(1)
    dossier_open(case_id=case.pk, actor=staff.clerk, today=OPENED)
    refused = unchanged(lambda: dossier_open(case_id=case.pk, actor=staff.clerk, today=OPENED))
    assert refused.messages == [
        "Case AC2026-0000001 already has the open dossier ZF310101-2026-000001."
    ]


def test_a_decision_number_is_recorded_once_and_a_closing_must_match_the_case():
    staff = Staff()
    first = dossier_at("transfer_requested", staff, unit_no=1)
    second = dossier_at("transfer_requested", staff, unit_no=2)
    dossier_transfer_grant(
        dossier_id=first.pk,
        decision_no="沪医保划〔2026〕5号",
        decided_on=AFTER_DEMAND,
        actor=staff.clerk,
        today=AFTER_DEMAND,
    )
    refused = unchanged(
        lambda: dossier_transfer_grant(
            dossier_id=second.pk,
            decision_no="沪医保划〔2026〕5号",
            decided_on=AFTER_DEMAND,
            actor=staff.clerk,
            today=AFTER_DEMAND,
        )
    )
    assert refused.message_dict == {
        "decision_no": ["沪医保划〔2026〕5号 is already recorded on another dossier."]
    }
    refused = unchanged(
        lambda: dossier_close(dossier_id=second.pk, reason="settled", actor=staff.clerk)
    )
    assert refused.messages == [
        "Case AC2026-0000002 is overdue: the dossier cannot close as “the case is settled”."
    ]


def test_a_guarantee_needs_its_guarantor_and_a_value():
    staff = Staff()
    dossier = dossier_at("guarantee_required", staff)
    refused = unchanged(
        lambda: dossier_deferred_sign(
            dossier_id=dossier.pk, guarantee=GuaranteeGiven("gold", " ", "0"),
            installment_count=2, actor=staff.clerk, today=AFTER_DEMAND,
        )
    )  # fmt: skip
    assert set(refused.message_dict) == {"kind", "guarantor", "value"}
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.GUARANTEE_REQUIRED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_opening_the_same_case_at_once_open_one_dossier():
    case = overdue_case(1)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def open_it(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):
                outcomes[index] = dossier_open(case_id=case.pk, actor=SYSTEM, today=OPENED)
        except Exception as exc:  # the test inspects it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_it, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Dossier.objects.count() == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["Dossier", "ValidationError"]
