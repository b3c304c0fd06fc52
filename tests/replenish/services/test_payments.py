"""Payments (step 3): recorded at the counter or declared on the portal, accepted by the collection
department (which asks finance to collect), confirmed as arrived or failed by finance."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    MatchedBy,
    Payment,
    PaymentState,
    PaymentVia,
)
from replenish.services.arrival import arrival_confirm, arrival_fail, arrivals_post
from replenish.services.payment import payment_accept, payment_record, payment_reject
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UnitFactory,
    UserFactory,
    accepted_payment,
    all_table_counts,
    case_of,
    department_user,
    import_arrivals,
    import_rows,
    portal_user,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """Unit 1 owes 1,000.00 due 2026-01-15 and was notified (N310101-2026-000001)."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = case_of(sample_uscc(1))
    case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
    return ArrearsCase.objects.get(pk=case.pk)


@pytest.fixture
def collector():
    return department_user(COLLECTION, "collector")


@pytest.fixture
def cashier():
    return department_user(FINANCE, "cashier")


def record(case, actor, **kwargs) -> Payment:
    values = dict(amount=D("1022.50"), channel="wechat", paid_on=IMPORT_DAY, today=IMPORT_DAY)
    return payment_record(case_id=case.pk, actor=actor, **{**values, **kwargs})


def audit_of(obj) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(subject=obj._meta.model_name, subject_id=obj.pk)
        .order_by("id")
        .values_list("case_id", "transition", "from_state", "to_state", "actor_label", "reason")
    )


def test_the_counter_records_a_payment_with_its_channel_and_the_notice_quoted(case, collector):
    # when
    payment = record(case, collector, reference="N310101-2026-000001", channel_ref="WX42")

    # then
    payment = Payment.objects.get(pk=payment.pk)
    assert (
        payment.case_id, payment.payer.uscc, payment.amount, payment.channel, payment.paid_on,
        payment.reference, payment.channel_ref, payment.via, payment.state, payment.recorded_by,
    ) == (
        case.pk, sample_uscc(1), D("1022.50"), "wechat", IMPORT_DAY,
        "N310101-2026-000001", "WX42", PaymentVia.COUNTER, PaymentState.RECORDED, collector,
    )  # fmt: skip
    assert audit_of(payment) == [
        (case.pk, "record", "", "recorded", "collector", "counter: 1022.50 by wechat on 2026-03-01")
    ]
    # a payment is a claim, not money: the case owes as much as before
    assert ArrearsCase.objects.get(pk=case.pk).principal_unpaid == D("1000.00")


@pytest.mark.parametrize("channel", ["wechat", "alipay", "etax", "bank", "counter"])
def test_every_channel_is_kept(case, collector, channel):
    assert record(case, collector, channel=channel).channel == channel


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": D("0.00")}, "{'amount': ['The amount must be greater than 0.']}"),
        ({"amount": D("-1.00")}, "{'amount': ['The amount must be greater than 0.']}"),
        ({"amount": D("1.001")}, "{'amount': ['The amount has more than 2 decimals.']}"),
        ({"channel": "paypal"}, "{'channel': ['paypal is not a payment channel.']}"),
        ({"paid_on": date(2026, 3, 2)}, "{'paid_on': ['2026-03-02 is in the future.']}"),
        (
            {"reference": "N310101-2026-000002"},
            "{'reference': ['N310101-2026-000002 is not a reference of case AC2026-0000001.']}",
        ),
        (
            {"reference": "N310101-2026-000009"},
            "{'reference': ['N310101-2026-000009 is not a reference of case AC2026-0000001.']}",
        ),
    ],
)
def test_a_bad_payment_is_refused_saying_why_and_nothing_is_written(
    case, collector, kwargs, message
):
    # given another unit's case, with notice N310101-2026-000002
    import_rows([ArrearsRowFactory(unit_no=2, person_no=2)])
    case_issue_notice(case_id=case_of(sample_uscc(2)).pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
    before = all_table_counts()

    # when / then
    with pytest.raises(ValidationError) as refused:
        record(case, collector, **kwargs)
    assert str(refused.value) == message
    assert all_table_counts() == before


def test_a_payment_for_a_closed_case_is_refused(case, collector):
    # given the case was paid in full
    import_arrivals([ArrivalRowFactory(unit_no=1, amount="2000.00")])
    arrivals_post(actor=SYSTEM)

    # when / then
    with pytest.raises(ValidationError) as refused:
        record(case, collector)
    assert refused.value.messages == [
        "Case AC2026-0000001 is settled: a payment is recorded only for an open case."
    ]


def test_audit_cannot_record_a_payment(case):
    # given an auditor
    auditor = department_user(AUDIT, "inspector")

    # when / then
    with pytest.raises(PermissionDenied) as refused:
        record(case, auditor)
    assert str(refused.value) == (
        "inspector may not record a payment (needs permission replenish.add_payment)."
    )
    assert not Payment.objects.exists()


def test_the_portal_declares_a_payment_for_its_own_unit_only(case):
    # given a portal user (no staff permissions) of unit 1
    member = portal_user("unit1", unit=case.unit)

    # when the unit declares a bank transfer
    payment = record(case, member, via=PaymentVia.PORTAL, channel="bank")

    # then it is recorded as declared on the portal, waiting for the collection department
    assert (payment.via, payment.state, payment.recorded_by) == (
        PaymentVia.PORTAL,
        PaymentState.RECORDED,
        member,
    )
    # and another unit's user may not declare for this unit
    stranger = portal_user("unit2", unit=UnitFactory())
    with pytest.raises(PermissionDenied, match="unit2 may not declare a payment for this unit"):
        record(case, stranger, via=PaymentVia.PORTAL)


def test_a_user_without_a_portal_membership_may_not_declare(case):
    member = UserFactory(username="unit1", is_staff=False)
    with pytest.raises(PermissionDenied):
        record(case, member, via=PaymentVia.PORTAL)


def test_accepting_a_payment_asks_finance_to_collect_once_after_commit(
    case, collector, django_capture_on_commit_callbacks, mailoutbox
):
    # given a member of finance with an address
    from django.contrib.auth.models import Group

    from notices.models import Notification

    UserFactory(username="cw", email="cw@ybj.example").groups.add(
        Group.objects.get(name="财务管理部门")
    )
    payment = record(case, collector)

    # when the payment is accepted
    with django_capture_on_commit_callbacks(execute=True):
        payment_accept(payment_id=payment.pk, actor=collector)
        # the message is a row of the same transaction, nothing is sent inside it
        assert mailoutbox == []

    # then one message to finance, sent after commit, with the payment's details
    message = Notification.objects.get(department="finance")
    assert (message.dedupe_key, message.kind, message.department, message.state) == (
        f"collect:payment:{payment.pk}",
        "payment_collect",
        "finance",
        "sent",
    )
    assert [m.to for m in mailoutbox] == [["cw@ybj.example"]]
    assert message.context == {
        "payment_id": str(payment.pk),
        "case_no": case.case_no,
        "amount": str(payment.amount),
        "payer_name": case.unit.name,
        "payer_uscc": case.unit.uscc,
        # the channel's label in the agency's language, fixed when the message is made
        "channel": "微信支付",
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference or payment.channel_ref or "-",
    }
    from notices.messages import message_render

    assert message_render(message.kind, message.context, channel="email", language="en").body == (
        f"The collection department accepted payment {payment.pk}: {payment.amount} yuan paid by "
        f"{case.unit.name} ({case.unit.uscc}) through 微信支付 on {payment.paid_on} for case "
        f"{case.case_no}, reference {message.context['reference']}. Please collect it and "
        "confirm its arrival."
    )
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.ACCEPTED
    assert audit_of(payment)[-1] == (case.pk, "accept", "recorded", "accepted", "collector", "")

    # and a second request for the same payment adds nothing
    from django.db import transaction

    from notices.workflow_messages import finance_collect_request

    with transaction.atomic():
        finance_collect_request(payment_id=payment.pk)
    assert Notification.objects.filter(department="finance").count() == 1


def test_a_payment_not_accepted_says_why(case, collector):
    # given
    payment = record(case, collector)

    # when / then a reason is required
    with pytest.raises(ValidationError, match=r"Say why the payment is not accepted\."):
        payment_reject(payment_id=payment.pk, reason=" ", actor=collector)
    payment_reject(payment_id=payment.pk, reason="declared twice", actor=collector)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REJECTED
    assert audit_of(payment)[-1][1:] == (
        "reject",
        "recorded",
        "rejected",
        "collector",
        "declared twice",
    )
    # and a rejected payment cannot be accepted any more
    with pytest.raises(ValidationError, match="accept is not possible from that state"):
        payment_accept(payment_id=payment.pk, actor=collector)


def test_finance_confirms_the_arrival_which_the_adjustment_then_posts(case, cashier):
    # given an accepted payment of the whole debt as of 2026-03-01
    payment = accepted_payment(case, "1022.50", reference="N310101-2026-000001")

    # when finance confirms it arrived on 2026-03-01 under the bank's reference
    arrival = arrival_confirm(
        payment_id=payment.pk,
        arrived_on=date(2026, 3, 1),
        arrival_ref="BK-0301-7",
        actor=cashier,
        today=IMPORT_DAY,
    )

    # then the arrival is matched to the payment's case and the payment has arrived
    arrival = Arrival.objects.get(pk=arrival.pk)
    assert (
        arrival.arrival_ref, arrival.state, arrival.case_id, arrival.matched_by, arrival.amount,
        arrival.payer_uscc, arrival.channel, arrival.reference,
    ) == (
        "BK-0301-7", ArrivalState.MATCHED, case.pk, MatchedBy.PAYMENT, D("1022.50"),
        sample_uscc(1), "counter", "N310101-2026-000001",
    )  # fmt: skip
    payment.refresh_from_db()
    assert (payment.state, payment.arrival_id) == (PaymentState.ARRIVED, arrival.pk)
    assert audit_of(payment)[-1][1:5] == ("arrive", "accepted", "arrived", "cashier")

    # when the adjustment runs
    [posted] = arrivals_post(actor=SYSTEM)

    # then the case is settled
    assert (posted.applied, posted.credit, posted.settled) == (D("1022.50"), D("0.00"), True)
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED


def test_a_payment_whose_money_came_in_a_file_first_is_confirmed_by_that_arrival(case, cashier):
    # given the bank file brought the money first, for a payer with no single open case (unit
    # 1 has a second open case), so it waits unmatched
    import_rows([ArrearsRowFactory(unit_no=1, person_no=2, period="2026-01")])
    payment = accepted_payment(case, "500.00")
    import_arrivals([ArrivalRowFactory(arrival_ref="BK-9", unit_no=1, amount="500.00")])
    assert Arrival.objects.get().state == ArrivalState.UNMATCHED

    # when finance confirms the payment under that reference
    arrival = arrival_confirm(
        payment_id=payment.pk,
        arrived_on=date(2026, 3, 1),
        arrival_ref="BK-9",
        actor=cashier,
        today=IMPORT_DAY,
    )

    # then it is that arrival, matched to the payment's case: the money counts once
    assert Arrival.objects.count() == 1
    assert (arrival.state, arrival.case_id, arrival.matched_by) == (
        ArrivalState.MATCHED,
        case.pk,
        MatchedBy.HAND,
    )
    assert Payment.objects.get(pk=payment.pk).arrival_id == arrival.pk


def test_an_arrival_of_other_money_cannot_confirm_a_payment(case, cashier):
    # given
    payment = accepted_payment(case, "500.00")
    import_arrivals([ArrivalRowFactory(arrival_ref="BK-9", unit_no=1, amount="400.00")])

    # when / then
    with pytest.raises(ValidationError) as refused:
        arrival_confirm(
            payment_id=payment.pk,
            arrived_on=date(2026, 3, 1),
            arrival_ref="BK-9",
            actor=cashier,
            today=IMPORT_DAY,
        )
    assert refused.value.messages == [
        f"arrival BK-9 is 400.00 from {sample_uscc(1)}, not this payment's 500.00 from "
        f"{sample_uscc(1)}."
    ]
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.ACCEPTED


def test_only_an_accepted_payment_arrives_and_not_before_it_was_paid(case, collector, cashier):
    # given a payment only recorded, and one accepted paid on 2026-03-01
    recorded = record(case, collector)
    accepted = accepted_payment(case, "10.00")

    # when / then
    with pytest.raises(ValidationError) as refused:
        arrival_confirm(
            payment_id=recorded.pk, arrived_on=IMPORT_DAY, actor=cashier, today=IMPORT_DAY
        )
    assert refused.value.messages == [
        f"Payment {recorded.pk} is recorded: only an accepted payment can arrive."
    ]
    with pytest.raises(ValidationError, match="cannot arrive before it was paid"):
        arrival_confirm(
            payment_id=accepted.pk, arrived_on=date(2026, 2, 28), actor=cashier, today=IMPORT_DAY
        )
    assert not Arrival.objects.exists()


def test_finance_marks_a_payment_that_never_arrived_failed(case, cashier):
    # given
    payment = accepted_payment(case, "500.00")

    # when
    arrival_fail(payment_id=payment.pk, reason="bank returned the transfer", actor=cashier)

    # then
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.FAILED
    assert audit_of(payment)[-1][1:] == (
        "fail",
        "accepted",
        "failed",
        "cashier",
        "bank returned the transfer",
    )
    assert not Arrival.objects.exists()
    with pytest.raises(ValidationError, match="only an accepted payment can fail"):
        arrival_fail(payment_id=payment.pk, reason="again", actor=cashier)
