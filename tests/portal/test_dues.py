"""What the portal tells a unit it owes and must do: the deadline with days left or overdue and
the fee running per day, each installment paid, partly paid or due, declarations pre-filled from
where the unit came from, a rejection's reason, the signed agreement to download, English on
request."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from kernel.money import round_fen
from notices.services import case_issue_notice
from replenish.selectors import case_owed
from replenish.services.arrival import arrivals_post
from replenish.services.payment import payment_reject
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    case_of,
    deliver,
    department_user,
    import_arrivals,
    import_rows,
    portal_user,
)
from tests.notices.test_document_contents import pages
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def notified(client):
    """Unit 5 owes 1,000.00 for each of two persons; its notice was delivered 20 days ago."""
    today = timezone.localdate()
    import_rows([ArrearsRowFactory(unit_no=5, person_no=n) for n in (1, 2)])
    case = case_of(sample_uscc(5))
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=today - timedelta(25))
    notice = deliver(notice, today - timedelta(20))
    client.force_login(portal_user("unit5", unit=case.unit))
    return case, notice


def test_a_notice_past_its_deadline_warns_and_says_what_the_fee_adds_each_day(client, notified):
    # given the notice's deadline has passed, nothing paid
    case, notice = notified
    today = timezone.localdate()
    days = (today - notice.deadline).days
    fee_per_day = round_fen(D("2000.00") * D("0.0005"))

    # when / then the home page puts it first, overdue
    home = page(client, "/portal/")
    assert f"缴款期限 {notice.deadline:%Y-%m-%d}" in home and f"已逾期 {days} 天" in home
    assert f"滞纳金每日增加 {fee_per_day} 元" in home
    assert f'href="/portal/payments/declare/?notice={notice.pk}"' in home

    # and the list and the notice say it too, with the amount owed today
    owed = case_owed(case.pk, as_of=today)
    listing = page(client, "/portal/notices/")
    assert "已逾期" in listing and f"<strong>{owed.total:,.2f}</strong>" in listing
    detail = page(client, f"/portal/notices/{notice.pk}/")
    assert 'id="overdue-warning"' in detail
    assert f"已过 {days} 天" in detail and f"每日 {fee_per_day} 元" in detail
    assert f'<dd id="owed-today"><strong>{owed.total:,.2f}</strong></dd>' in detail


def test_a_notice_not_yet_delivered_says_its_deadline_runs_from_receipt(client, settings):
    # given a notice issued and not delivered (no deadline yet), under a rule of 12 working days
    settings.NOTICE_DEADLINE_WORKING_DAYS = 12
    import_rows([ArrearsRowFactory(unit_no=7, person_no=1)])
    case = case_of(sample_uscc(7))
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=timezone.localdate())
    assert notice.deadline is None
    client.force_login(portal_user("unit7", unit=case.unit))

    # when / then the home page names the notice and the rule its snapshot holds
    home = page(client, "/portal/")
    assert "缴款期限：收到通知单之日起 12 个工作日内" in home
    assert notice.number in home


def test_a_notice_within_its_deadline_counts_the_days_left(client):
    # given a notice delivered today
    today = timezone.localdate()
    import_rows([ArrearsRowFactory(unit_no=6, person_no=1)])
    case = case_of(sample_uscc(6))
    notice = deliver(
        case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=today - timedelta(1)), today
    )
    client.force_login(portal_user("unit6", unit=case.unit))

    # then
    home = page(client, "/portal/")
    assert f"还剩 {(notice.deadline - today).days} 天" in home
    assert "已逾期" not in page(client, f"/portal/notices/{notice.pk}/")


def test_the_declaration_is_filled_in_from_the_notice_and_not_from_another_units(client, notified):
    # given
    case, notice = notified
    owed = case_owed(case.pk, as_of=timezone.localdate())

    # when the unit comes from its notice
    form = client.get(f"/portal/payments/declare/?notice={notice.pk}").context["form"]

    # then the case, the number to quote and the amount owed today are filled in
    assert (form.initial["case"], form.initial["reference"], form.initial["amount"]) == (
        case.pk,
        notice.number,
        owed.total,
    )
    assert notice.number in dict(form.fields["case"].choices)[case.pk]

    # and another unit's notice fills in nothing
    import_rows([ArrearsRowFactory(unit_no=8, person_no=1)])
    other = case_issue_notice(case_id=case_of(sample_uscc(8)).pk, actor=SYSTEM)
    form = client.get(f"/portal/payments/declare/?notice={other.pk}").context["form"]
    assert "reference" not in form.initial and other.number not in str(form)


def test_installments_are_paid_partly_paid_or_due_and_the_declaration_fills_the_next(member, one):
    # given 1.5 installments' worth arrives after signing (2026-03-10) and is posted
    first, second, _third = one.agreement.installments.order_by("seq")
    amount = first.amount + (second.amount / 2).quantize(D("0.01"))
    row = ArrivalRowFactory(
        unit_no=1, arrival_ref="AFTER-1", arrived_on="2026-04-08", amount=str(amount)
    )
    import_arrivals([row], today=date(2026, 4, 8))
    arrivals_post(actor=SYSTEM)

    # when
    html = page(member, f"/portal/agreements/{one.agreement.pk}/")

    # then the first is paid on the day the money arrived, the second partly, the third not
    assert "已缴清 2026-04-08" in html
    left = second.amount - (amount - first.amount)
    assert f"部分缴纳：已缴 {amount - first.amount:,.2f}，尚欠 {left:,.2f}" in html
    assert html.count('class="state overdue"') + html.count('class="state due"') == 1

    # and declaring from the agreement fills in the rest of the second installment
    form = member.get(f"/portal/payments/declare/?installment={second.pk}").context["form"]
    assert (form.initial["reference"], form.initial["amount"]) == (one.agreement.number, left)


def test_a_rejected_declaration_shows_why(member, one):
    # given the collection department rejects a declared payment
    from replenish.models import Payment
    from replenish.services.payment import payment_record

    payment = payment_record(
        case_id=one.case.pk, amount=D("10.00"), channel="bank", paid_on=date(2026, 3, 5),
        via="portal", actor=one.user,
    )  # fmt: skip
    payment_reject(
        payment_id=payment.pk, reason="到账记录中未找到该笔转账", actor=department_user("征缴部门")
    )

    # then the payments page shows the rejection with its reason
    html = page(member, "/portal/payments/")
    assert Payment.objects.get(pk=payment.pk).state == "rejected"
    assert "不予受理" in html and "原因：到账记录中未找到该笔转账" in html


def test_the_member_downloads_its_signed_agreement_and_scan(member, one):
    # when
    pdf = member.get(f"/portal/agreements/{one.agreement.pk}/agreement.pdf")
    scan = member.get(f"/portal/agreements/{one.agreement.pk}/signed-scan/")

    # then
    assert pdf["Content-Disposition"] == f'attachment; filename="{one.agreement.number}.pdf"'
    assert one.agreement.number in "".join(pages(pdf.content))
    assert b"".join(scan.streaming_content) == b"%PDF-1.4 signed scan"
    assert f"{one.agreement.number}-signed.pdf" in scan["Content-Disposition"]


def test_english_on_request(member, one):
    # when the unit switches the language
    response = member.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})

    # then the portal and its documents are in English
    assert response.status_code == 302
    assert "Owed as of" in page(member, "/portal/")
    html = page(member, f"/portal/notices/{one.notice.pk}/document/")
    assert "Social insurance premium replenishment notice" in html and "Delivery receipt" in html
    text = "".join(pages(member.get(f"/portal/notices/{one.notice.pk}/document.pdf").content))
    assert "payee (account name)" in text


@pytest.fixture
def member(client, one):
    client.force_login(one.user)
    return client


def test_a_notice_whose_debt_is_under_agreement_says_to_pay_by_the_installments(member, one):
    html = page(member, "/portal/notices/")
    assert "请按协议分期缴纳" in html and "已逾期" not in html
    assert 'id="under-agreement"' in page(member, f"/portal/notices/{one.notice.pk}/")
