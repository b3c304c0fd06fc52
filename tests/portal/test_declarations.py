"""A payment a unit declares on the portal, as the collection department's work: what the
declaration checks (the number quoted, the date, an amount above the debt), its idempotency, the
message to collection, the queue, the proof on the payment's page, and the unit told why when
the payment is not accepted."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backoffice.queues import queue
from notices.models import Notification
from notices.sending import notification_send
from portal.models import PaymentProof
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import Payment, PaymentState, PaymentVia
from replenish.selectors import case_owed
from replenish.services.payment import payment_reject
from tests.factories import all_table_counts, department_user, portal_user

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member(client, one):
    client.force_login(one.user)
    return client


def declaration(one, **changes) -> dict:
    values = {
        "case": one.case.pk,
        "channel": "bank",
        "paid_on": str(timezone.localdate() - timedelta(days=1)),
        "amount": "300.00",
        "reference": one.notice.number,
        "channel_ref": "TX-1",
        "declaration_key": "form-1",
    }
    return {**values, **changes}


def declare(client, data: dict, proof: bytes | None = None, name: str = "receipt.png"):
    if proof is not None:
        data = {**data, "proof": SimpleUploadedFile(name, proof)}
    return client.post("/portal/payments/declare/", data)


def declared_payment(member, one, **changes) -> Payment:
    response = declare(member, declaration(one, **changes), proof=PNG)
    assert response.status_code == 302, response.context["form"].errors
    return Payment.objects.get(via=PaymentVia.PORTAL)


# --- what the declaration checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"reference": "N999999-2026-000001"}, "reference", "不是案件"),
        ({"reference": "hello"}, "reference", "不是案件"),
        ({"paid_on": str(timezone.localdate() + timedelta(days=1))}, "paid_on", "在未来"),
        ({"amount": "99999999.00"}, "amount", "请确认"),
    ],
)
def test_a_declaration_a_counter_clerk_would_refuse_says_why_and_changes_nothing(
    member, one, changes, field, message
):
    # given
    before = all_table_counts()

    # when
    response = declare(member, declaration(one, **changes), proof=PNG)

    # then the form answers in Chinese on the field at fault, and nothing was kept
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field]), errors
    assert all_table_counts() == before
    assert PaymentProof.objects.count() == 0


def test_an_amount_above_the_debt_is_declared_once_the_unit_confirms_it(member, one):
    # given what the case owes today
    owed = case_owed(one.case.pk, as_of=timezone.localdate()).total
    amount = owed + D("500.00")

    # when the unit declares more: the form asks it to confirm, with a checkbox
    response = declare(member, declaration(one, amount=str(amount)), proof=PNG)
    html = response.content.decode()
    assert 'type="checkbox" name="confirm_overpayment"' in html
    assert f"{amount}" in html and f"{owed}" in html
    assert not Payment.objects.filter(via=PaymentVia.PORTAL).exists()

    # and confirms
    payment = declared_payment(member, one, amount=str(amount), confirm_overpayment="on")

    # then the payment is kept with what the case owed, as an expected overpayment of 500.00
    assert (payment.amount, payment.owed_when_declared, payment.expected_overpayment) == (
        amount,
        owed,
        D("500.00"),
    )


def test_an_amount_within_the_debt_needs_no_confirmation(member, one):
    payment = declared_payment(member, one)
    assert payment.expected_overpayment is None
    assert payment.owed_when_declared == case_owed(one.case.pk, as_of=timezone.localdate()).total


def test_an_empty_reference_is_accepted(member, one):
    assert declared_payment(member, one, reference="").reference == ""


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_declaration_sent_twice_makes_one_payment_with_its_first_proof(member, one):
    # when the form is sent twice (a double tap, a retry after a lost answer)
    first = declare(member, declaration(one), proof=PNG)
    second = declare(member, declaration(one), proof=b"%PDF-1.4 another", name="again.pdf")

    # then both answers lead to the payments page, and there is one payment with one proof
    assert (first.status_code, second.status_code) == (302, 302)
    payment = Payment.objects.get(via=PaymentVia.PORTAL)
    assert PaymentProof.objects.get().payment == payment
    assert PaymentProof.objects.get().file.read() == PNG
    assert Notification.objects.filter(kind="payment_declared").count() == 1

    # and a new form (a new key) is a new declaration
    declare(member, declaration(one, declaration_key="form-2"), proof=PNG)
    assert Payment.objects.filter(via=PaymentVia.PORTAL).count() == 2


def test_a_form_without_its_key_is_refused(member, one):
    before = all_table_counts()
    response = declare(member, declaration(one, declaration_key=""), proof=PNG)
    assert response.status_code == 200
    assert "重新加载" in response.content.decode()
    assert all_table_counts() == before


def test_another_units_key_finds_nothing_of_it(client, one, two):
    # given unit 1 declared with key form-1
    client.force_login(one.user)
    declare(client, declaration(one), proof=PNG)
    before = all_table_counts()

    # when unit 2 sends a declaration with the same key
    client.force_login(two.user)
    response = declare(client, declaration(two, reference=two.notice.number), proof=PNG)

    # then it is refused, and unit 1's payment is not shown to it
    assert response.status_code == 200
    assert "已经提交" in response.content.decode()
    assert all_table_counts() == before


# --- the message, the queue, the proof ---------------------------------------------------------


def test_a_declaration_tells_the_collection_department_with_the_expected_overpayment(member, one):
    # given
    owed = case_owed(one.case.pk, as_of=timezone.localdate()).total

    # when
    payment = declared_payment(member, one, amount=str(owed + D("1.00")), confirm_overpayment="on")

    # then one message to collection, saying what to check
    message = Notification.objects.get(kind="payment_declared")
    assert (message.department, message.channel, message.dedupe_key) == (
        "collection",
        "email",
        f"declared:payment:{payment.pk}",
    )
    assert message.context["owed"] == str(owed)
    assert message.context["overpayment"] == "1.00"
    assert message.context["reference"] == one.notice.number


def test_collection_works_the_declared_payments_oldest_first_with_what_each_case_owes(
    client, one, two, django_assert_max_num_queries
):
    # given three declarations: two of unit 2, then one of unit 1
    for n, world in enumerate([two, two, one]):
        client.force_login(world.user)
        declare(
            client,
            declaration(world, reference=world.notice.number, declaration_key=f"k{n}"),
            proof=PNG,
        )
    waiting = queue("declared_payments_to_accept")
    clerk = department_user(COLLECTION, "clerk")
    assert waiting in __import__("backoffice.queues").queues.queues_for(clerk)

    # when collection opens its queue
    client.force_login(clerk)
    with django_assert_max_num_queries(14):
        response = client.get(waiting.url())
    html = response.content.decode()

    # then the three, oldest first, with the number quoted and what the case owes today
    assert list(response.context["cl"].result_list) == list(
        Payment.objects.filter(via=PaymentVia.PORTAL).order_by("recorded_at", "pk")
    )
    owed = case_owes = case_owed(one.case.pk, as_of=timezone.localdate()).total
    assert one.notice.number in html and two.notice.number in html
    assert f'<td class="field-case_owes_today">{case_owes}</td>' in html, owed
    assert "预计多缴" in html


def test_the_queue_is_collections_and_finance_does_not_see_it(one):
    waiting = queue("declared_payments_to_accept")
    assert waiting.department == COLLECTION
    assert not department_user(FINANCE).has_perm(waiting.permission)


@pytest.mark.parametrize("department", [COLLECTION, FINANCE])
def test_collection_and_finance_see_the_proof_on_the_payments_page(member, client, one, department):
    # given a declaration with an image as proof
    payment = declared_payment(member, one)

    # when a clerk of the department opens the payment's page
    client.force_login(department_user(department, "clerk"))
    html = client.get(f"/admin/replenish/payment/{payment.pk}/change/").content.decode()

    # then the proof is shown inline, through the permission-checked view, which serves it
    url = f"/admin/replenish/payment/{payment.pk}/proof/"
    assert f'<img class="proof" src="{url}"' in html
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PNG


def test_a_pdf_proof_is_shown_in_a_frame(member, client, one):
    response = declare(member, declaration(one), proof=b"%PDF-1.4 proof", name="receipt.pdf")
    assert response.status_code == 302
    payment = Payment.objects.get(via=PaymentVia.PORTAL)
    client.force_login(department_user(COLLECTION, "clerk"))
    html = client.get(f"/admin/replenish/payment/{payment.pk}/change/").content.decode()
    assert f'<iframe class="proof" src="/admin/replenish/payment/{payment.pk}/proof/"' in html
    response = client.get(f"/admin/replenish/payment/{payment.pk}/proof/")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_proof_is_nobody_elses(member, client, one):
    # given
    payment = declared_payment(member, one)
    url = f"/admin/replenish/payment/{payment.pk}/proof/"

    # then a staff user without a department is refused, the unit's user is sent to sign in
    client.force_login(department_user(AUDIT, "auditor"))
    assert client.get(url).status_code == 200  # audit supervises: it sees every payment
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody", is_staff=True))
    assert client.get(url).status_code == 403
    client.force_login(one.user)
    assert client.get(url).status_code == 302


# --- not accepted -----------------------------------------------------------------------------


def test_a_declaration_not_accepted_tells_the_unit_why_in_its_inbox(member, one):
    # given
    payment = declared_payment(member, one)
    clerk = department_user(COLLECTION, "clerk")

    # when collection does not accept it
    payment_reject(payment_id=payment.pk, reason="转账凭证金额与申报不符", actor=clerk)

    # then the unit's inbox has a message saying why (once the worker put it there)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REJECTED
    message = Notification.objects.get(kind="payment_rejected")
    notification_send(notification_id=message.pk)
    message.refresh_from_db()
    assert (message.unit_id, message.channel, message.state) == (one.case.unit_id, "portal", "sent")
    html = member.get("/portal/inbox/").content.decode()
    assert "未被受理" in html
    html = member.get(f"/portal/inbox/{message.pk}/").content.decode()
    assert "转账凭证金额与申报不符" in html and one.case.case_no in html


def test_a_counter_payment_not_accepted_sends_the_unit_nothing(one):
    clerk = department_user(COLLECTION, "clerk")
    from replenish.services.payment import payment_record

    payment = payment_record(
        case_id=one.case.pk,
        amount=D("10.00"),
        channel="counter",
        paid_on=timezone.localdate(),
        actor=clerk,
    )
    payment_reject(payment_id=payment.pk, reason="录错了", actor=clerk)
    assert not Notification.objects.filter(kind="payment_rejected").exists()


def test_a_portal_user_of_another_unit_cannot_declare_for_this_one(client, one, two):
    client.force_login(portal_user("intruder", unit=two.case.unit))
    before = all_table_counts()
    response = declare(client, declaration(one), proof=PNG)
    # the case is not among its choices
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["case"]
    assert all_table_counts() == before
