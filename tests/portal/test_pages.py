"""The unit portal's pages: what a unit sees of its own history, in Chinese, and what it does
(acknowledge a notice, read a message, declare a payment)."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from notices.models import NoticeState
from portal.models import PaymentProof
from replenish.models import Payment, PaymentState, PaymentVia
from replenish.selectors import case_owed
from tests.factories import UserFactory, portal_user, table_counts
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, one):
    client.force_login(one.user)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_balance_is_the_cases_owed_today_with_its_lines(member, one):
    # given what the money rules say the case owes today
    owed = case_owed(one.case.pk, as_of=timezone.localdate())

    # when
    html = page(member, "/portal/")

    # then the page shows it in Chinese, with the line that makes it up
    assert f'<span id="principal">{owed.principal:,.2f}</span>' in html
    assert f'<span id="late-fee">{owed.late_fee:,.2f}</span>' in html
    assert f'<p class="big" id="total">{owed.total:,.2f} <small>元</small></p>' in html
    assert "本金" in html and "计算方法" in html
    assert (
        '<td class="nowrap">2025-12</td><td>职工100<br>'
        '<span class="nowrap help">110101********1006</span></td>'
    ) in html
    # and the full ID number is nowhere
    assert sample_id_number(100, region_code="110101") not in html


def test_the_employees_page_lists_unpaid_months_masked(member, one):
    html = page(member, "/portal/employees/")
    assert "职工100" in html and "110101********1006" in html
    assert sample_id_number(100, region_code="110101") not in html


def test_a_staff_user_without_membership_gets_404(client, one):
    client.force_login(UserFactory(username="clerk"))
    assert client.get("/portal/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/portal/notices/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/portal/login/?next=/portal/notices/",
    )


def test_the_unit_signs_in_on_the_portal(client, one):
    response = client.post("/portal/login/", {"username": "unit1", "password": "pw-for-tests"})
    assert (response.status_code, response["Location"]) == (302, "/portal/")


def test_a_notice_is_read_downloaded_and_acknowledged(member, one):
    # given the notice's page
    html = page(member, f"/portal/notices/{one.notice.pk}/")
    assert one.notice.number in html and "确认签收" in html

    # when the PDF is downloaded
    pdf = member.get(f"/portal/notices/{one.notice.pk}/document.pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == f'attachment; filename="{one.notice.number}.pdf"'

    # and the notice is acknowledged
    response = member.post(f"/portal/notices/{one.notice.pk}/acknowledge/")

    # then it is acknowledged by the unit's user (delivered on the portal that day first)
    assert response.status_code == 302
    one.notice.refresh_from_db()
    assert (one.notice.state, one.notice.acknowledged_by, one.notice.delivery_channel) == (
        NoticeState.ACKNOWLEDGED,
        "unit1",
        "portal",
    )
    html = page(member, f"/portal/notices/{one.notice.pk}/")
    assert "确认签收通知单" in html and "由 unit1" in html


def test_acknowledging_needs_a_post(member, one):
    assert member.get(f"/portal/notices/{one.notice.pk}/acknowledge/").status_code == 405
    one.notice.refresh_from_db()
    assert one.notice.state == NoticeState.ISSUED


def test_opening_the_notice_message_in_the_inbox_delivers_the_notice(member, one):
    # given an unread message in the inbox
    assert "未读" in page(member, "/portal/inbox/")

    # when the unit opens it
    html = page(member, f"/portal/inbox/{one.message.pk}/")

    # then it is read, and the notice is delivered through the portal today
    one.message.refresh_from_db()
    one.notice.refresh_from_db()
    assert one.message.read_at is not None
    assert (one.notice.state, one.notice.delivery_channel, one.notice.delivered_on) == (
        NoticeState.DELIVERED,
        "portal",
        timezone.localdate(),
    )
    assert one.notice.number in html
    assert "未读" not in page(member, "/portal/inbox/")


def test_agreements_show_their_schedule_and_next_due_date(member, one):
    installments = list(one.agreement.installments.order_by("seq"))
    html = page(member, f"/portal/agreements/{one.agreement.pk}/")
    for installment in installments:
        assert f'<td class="nowrap">{installment.due_on:%Y-%m-%d}</td>' in html
        assert f'<td class="num">{installment.amount:,.2f}</td>' in html
    # nothing was paid since signing: the first installment is the next one due
    first = installments[0]
    assert f'<dd id="next-due">{first.due_on:%Y-%m-%d} · {first.amount:,.2f}</dd>' in html
    assert one.agreement.number in page(member, "/portal/agreements/")


def test_payments_show_arrivals_and_how_they_were_applied(member, one):
    html = page(member, "/portal/payments/")
    assert "BANK-1-0" in html
    assert f"{one.arrival.applied_amount} ({one.case.case_no})" in html
    assert '<td class="num">50.00</td>' in html  # the accepted payment


def test_the_unit_declares_a_payment_with_its_proof(member, one, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path

    # when
    response = member.post(
        "/portal/payments/declare/",
        {
            "case": one.case.pk,
            "channel": "bank",
            "paid_on": "2026-03-05",
            "amount": "300.00",
            "reference": one.notice.number,
            "channel_ref": "TX-1",
            "declaration_key": "k-1",
            "proof": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 proof", "application/pdf"),
        },
    )

    # then it waits for the collection department, with its proof
    assert response.status_code == 302
    payment = Payment.objects.get(via=PaymentVia.PORTAL)
    assert (
        payment.case_id,
        payment.amount,
        payment.paid_on,
        payment.state,
        payment.reference,
        payment.recorded_by,
    ) == (one.case.pk, D("300.00"), date(2026, 3, 5), PaymentState.RECORDED, one.notice.number,
          one.user)  # fmt: skip
    assert PaymentProof.objects.get().payment == payment


def test_a_bad_declaration_says_which_field_and_changes_nothing(member, one):
    before = table_counts()
    response = member.post(
        "/portal/payments/declare/",
        {
            "case": one.case.pk,
            "channel": "bank",
            "paid_on": "2026-03-05",
            "amount": "1.234",
            "declaration_key": "k-1",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"amount"}
    assert table_counts() == before


def test_every_portal_form_carries_a_csrf_token(client, one):
    client.force_login(one.user)
    for url in [
        "/portal/payments/declare/",
        "/portal/password/",
        f"/portal/notices/{one.notice.pk}/",
    ]:
        assert "csrfmiddlewaretoken" in page(client, url), url


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failed_portal_logins_lock_the_unit_user_out(client, one):
    # when three logins on the portal fail
    for _attempt in range(3):
        response = client.post("/portal/login/", {"username": "unit1", "password": "wrong"})

    # then the right password no longer gets in
    assert response.status_code == 429
    response = client.post("/portal/login/", {"username": "unit1", "password": "pw-for-tests"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_counterparty_user_sees_the_agreements_it_is_party_to_and_nothing_else(client, one, two):
    # given a user acting for the party of unit 1's agreement (not for a unit)
    party_user = portal_user("party1", counterparty=one.agreement.counterparty)
    client.force_login(party_user)

    # then it sees that agreement, with its schedule, and not unit 2's
    html = page(client, "/portal/agreements/")
    assert one.agreement.number in html and two.agreement.number not in html
    assert page(client, f"/portal/agreements/{one.agreement.pk}/").count('<td class="nowrap">') == 3
    assert client.get(f"/portal/agreements/{two.agreement.pk}/").status_code == 404
    # and the unit's own pages are not its
    assert client.get("/portal/").status_code == 302  # to its agreements
    for url in ["/portal/employees/", "/portal/notices/", "/portal/payments/", "/portal/inbox/"]:
        assert client.get(url).status_code == 404, url
