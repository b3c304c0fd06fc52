"""The notice as a document: HTML and PDF, the same snapshot always giving the same text."""

import io
from datetime import date
from pathlib import Path

import pypdf
import pytest
from django.urls import reverse

from notices.documents import (
    CJK_FONT_CANDIDATES,
    html_render,
    notice_document,
    pdf_render,
)
from notices.services import case_issue_notice
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, UserFactory, deliver, import_rows

pytestmark = pytest.mark.django_db
INSTALLED_FONT = next((p for p in CJK_FONT_CANDIDATES if Path(p).is_file()), None)


@pytest.fixture
def notice():
    """Two persons, two periods of unit 1, issued 1 March 2026 (fees to that day)."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-12", due_date="2026-01-15"),
            ArrearsRowFactory(
                unit_no=1,
                person_no=2,
                period="2025-11",
                due_date="2025-12-15",
                employer_amount="400.00",
                employee_amount="100.00",
            ),
        ]
    )
    return case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 1)
    )


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_snapshot_holds_amounts_by_period_and_portion_accrual_channels_and_contact(notice):
    snap = notice.snapshot
    # 500.00 x 0.0005 x 76 days = 19.00; 1,000.00 x 0.0005 x 45 days = 22.50
    assert snap["by_period"] == [
        {
            "period": "2025-11",
            "employer": "400.00",
            "employee": "100.00",
            "late_fee": "19.00",
            "total": "519.00",
        },
        {
            "period": "2025-12",
            "employer": "800.00",
            "employee": "200.00",
            "late_fee": "22.50",
            "total": "1022.50",
        },
    ]
    assert (snap["employer"], snap["employee"], snap["late_fee"], snap["total"]) == (
        "1200.00",
        "300.00",
        "41.50",
        "1541.50",
    )
    assert {k: snap["late_fee_rule"][k] for k in ("from", "daily_rate", "daily_amount")} == {
        "from": "2026-03-02",
        "daily_rate": "0.0005",
        "daily_amount": "0.75",
    }
    assert snap["payment_channels"] == ["wechat", "alipay", "etax", "bank", "counter"]
    assert snap["payment_reference"] == notice.number
    assert snap["agency"] == {"name": "医疗保障事务中心", "contact": "12393", "address": ""}
    assert snap["legal_basis"].startswith("《中华人民共和国社会保险法》第八十六条")


def test_the_chinese_text_before_and_after_delivery(notice):
    # when / then before delivery the time limit is the rule
    text = notice_document(notice).text()
    assert "社会保险费补缴通知单" in text
    assert f"编号：{notice.number}" in text
    assert "参保单位: 单位1有限公司" in text
    assert "2025-11 | 400.00 | 100.00 | 19.00 | 519.00" in text
    assert "合计 | 1,200.00 | 300.00 | 41.50 | 1,541.50" in text
    assert "缴款期限: 自本通知单送达之日起 5 个工作日内" in text
    assert "自 2026-03-02 起，按日加收未缴社会保险费万分之5的滞纳金（目前每日 0.75 元）" in text
    assert f"缴款时请注明通知单编号 {notice.number}。" in text
    assert "微信（城市服务）、支付宝（城市服务）、电子税务局、银行转账、经办窗口" in text
    assert "联系电话: 12393" in text

    # and after delivery on 4 March the date
    delivered = deliver(notice, date(2026, 3, 4))
    assert "缴款期限: 2026年3月11日 前（自 2026年3月4日 送达之日起 5 个工作日内）" in (
        notice_document(delivered).text()
    )


def test_the_english_text(notice):
    text = notice_document(notice, language="en").text()
    assert "Social insurance premium replenishment notice" in text
    assert f"Quote the notice number {notice.number} as the payment reference." in text
    assert "deadline: within 5 working days from the day this notice is delivered" in text


def test_the_html_page_shows_the_document(notice):
    html = html_render(notice_document(notice))
    assert "<h1>社会保险费补缴通知单</h1>" in html
    assert '<td class="amount">1,541.50</td>' in html
    assert "单位1有限公司" in html


@pytest.mark.parametrize(
    "font",
    [
        pytest.param(
            INSTALLED_FONT or "missing",
            marks=pytest.mark.skipif(not INSTALLED_FONT, reason="no CJK TrueType font installed"),
            id="embedded-truetype",
        ),
        pytest.param("cid", id="cid-font-no-font-installed"),
        pytest.param("/nonexistent/font.ttf", id="configured-font-missing-falls-back-to-cid"),
    ],
)
def test_the_pdf_text_has_the_unit_and_the_amounts(notice, settings, font):
    # given the font choice
    settings.PDF_CJK_FONT = font

    # when
    pdf = pdf_render(notice_document(notice))

    # then the text extracted from the PDF is the notice's
    text = pdf_text(pdf)
    for expected in ("单位1有限公司", notice.number, "1,541.50", "41.50", "1,022.50", "519.00"):
        assert expected in text, expected
    if font == "cid" or font.startswith("/nonexistent"):
        # the CID font is named, not embedded: every PDF reader has it
        assert b"/STSong-Light" in pdf and b"/FontFile2" not in pdf
    else:
        assert b"/FontFile2" in pdf and b"/STSong-Light" not in pdf


def test_the_same_snapshot_always_gives_the_same_pdf_and_html(notice):
    first = notice_document(notice)
    again = notice_document(type(notice).objects.get(pk=notice.pk))
    assert pdf_render(first) == pdf_render(again)
    assert html_render(first) == html_render(again)


def test_staff_with_the_permission_get_the_html_and_the_pdf(client, notice):
    # given
    client.force_login(UserFactory(permissions=["notices.view_notice"]))

    # when
    html = client.get(reverse("notices:notice_html", args=[notice.pk]))
    pdf = client.get(reverse("notices:notice_pdf", args=[notice.pk]) + "?lang=en")

    # then
    assert "单位1有限公司" in html.content.decode()
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'inline; filename="{notice.number}.pdf"'
    assert "Social insurance premium replenishment notice" in pdf_text(pdf.content)


def test_without_the_permission_there_is_no_document(client, notice):
    url = reverse("notices:notice_pdf", args=[notice.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
