"""What the notice and its delivery receipt say, read back out of the PDF (pypdf): what a payer
needs to pay and a court needs to enforce. A page of each is kept as a picture
(var/screenshots/), to look at."""

import io
import re
from datetime import date

import pypdf
import pytest

from notices.documents import delivery_receipt_document, notice_document, notice_pdf_bytes
from notices.services import case_issue_notice
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, deliver, import_rows
from tests.screenshots import pdf_page_png

pytestmark = pytest.mark.django_db

AGENCY = {
    "AGENCY_NAME": "上海市黄浦区医疗保障事务中心",
    "AGENCY_ADDRESS": "上海市黄浦区延安东路300号",
    "AGENCY_CONTACT": "021-63300000",
    "PAYEE_NAME": "上海市黄浦区医疗保障事务中心基金收入户",
    "PAYEE_BANK": "中国工商银行上海市黄浦支行",
    "PAYEE_ACCOUNT": "1001 2345 6789 0123 456",
    "APPEAL_RECONSIDERATION_BODY": "上海市黄浦区人民政府",
    "APPEAL_COURT": "上海市黄浦区人民法院",
}


@pytest.fixture
def agency(settings):
    for name, value in AGENCY.items():
        setattr(settings, name, value)


@pytest.fixture
def delivered(agency):
    """Unit 1's notice of 1 March 2026 for three employees, delivered by post on 4 March."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=n, period="2025-12", due_date="2026-01-15")
            for n in (1, 2, 3)
        ]
        + [ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11", due_date="2025-12-15")]
    )
    notice = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 1)
    )
    return deliver(notice, date(2026, 3, 4))


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without the line breaks the layout put in (a paragraph wraps anywhere)."""
    return re.sub(r"\s*\n\s*", "", text)


def test_the_notice_pdf_has_what_a_payer_and_a_court_need(delivered):
    # when the delivered notice is printed
    pdf = notice_pdf_bytes(delivered)
    text = pages(pdf)
    pdf_page_png(pdf, "document-notice-page1", page=1)
    pdf_page_png(pdf, "document-notice-page2", page=2)
    pdf_page_png(pdf, "document-notice-receipt", page=len(text))

    # then the notice says whom to pay, how much, into which account, by which date
    notice = flat("".join(text[:-1]))
    for expected in (
        "社会保险费补缴通知单",
        delivered.number,
        "单位1有限公司",
        "户名",
        AGENCY["PAYEE_NAME"],
        "开户行",
        AGENCY["PAYEE_BANK"],
        "账号",
        AGENCY["PAYEE_ACCOUNT"],
        f"缴款时请注明通知单编号 {delivered.number}",
        # the deadline as a date: 5 working days after 4 March 2026
        "2026年3月11日 前（自 2026年3月4日 送达之日起 5 个工作日内）",
        # the appeal rights with their periods and bodies
        "60日内向上海市黄浦区人民政府申请行政复议",
        "6个月内直接向上海市黄浦区人民法院提起行政诉讼",
        # the agency, its address and contact, the seal and the date
        AGENCY["AGENCY_ADDRESS"],
        AGENCY["AGENCY_CONTACT"],
        "（盖章）",
        "2026年3月1日",
    ):
        assert expected in notice, expected
    assert "自本通知单送达之日起" not in notice

    # and the delivery receipt is a page of its own
    receipt = flat(text[-1])
    assert "送达回证" in receipt and "送达回证" not in notice
    for expected in (
        f"社会保险费补缴通知单（{delivered.number}）",
        "受送达人签名或盖章",
        "签收日期",
        "2026年3月4日",
        "送达人",
        AGENCY["AGENCY_NAME"],
    ):
        assert expected in receipt, expected


def test_no_id_number_or_amount_breaks_across_lines_of_the_table(delivered):
    # when the notice is printed
    text = "".join(pages(notice_pdf_bytes(delivered)))

    # then every masked ID number and every amount of the snapshot is whole on one line
    lines = text.splitlines()
    for row in delivered.snapshot["lines"]:
        assert any(row["id_number"] in line for line in lines), row["id_number"]
    for row in delivered.snapshot["by_period"]:
        total = f"{float(row['total']):,.2f}"
        assert any(total in line for line in lines), total


def test_an_undelivered_notice_states_the_rule_and_its_receipt_is_blank(agency):
    # given a notice not yet delivered
    import_rows([ArrearsRowFactory(unit_no=2, person_no=1)])
    notice = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 1)
    )

    # then the time limit is the rule and the receipt leaves the date to be written
    assert "缴款期限: 自本通知单送达之日起 5 个工作日内" in notice_document(notice).text()
    receipt = delivery_receipt_document(notice).text()
    assert "签收日期: 　　　　年　　月　　日" in receipt
    assert "送达方式: 直接送达 / 邮寄送达 / 留置送达 / 电子送达" in receipt


def test_the_english_notice_and_receipt(delivered):
    text = re.sub(r"\s+", " ", " ".join(pages(notice_pdf_bytes(delivered, language="en"))))
    for expected in (
        "Social insurance premium replenishment notice",
        "payee (account name)",
        AGENCY["PAYEE_ACCOUNT"],
        "2026-03-11 (5 working days from delivery on 2026-03-04)",
        "administrative reconsideration within 60 days",
        "Delivery receipt",
        "(seal)",
        "Social Insurance Law of the People's Republic of China, Art. 86",
    ):
        assert expected in text, expected
    assert "社会保险法" not in text
