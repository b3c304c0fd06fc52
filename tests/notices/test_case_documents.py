"""The signed agreement and the claim statement as PDFs of the notices' pipeline: what each must
show, read back out of the PDF (pypdf); a page of each kept as a picture (var/screenshots/)."""

import re
from datetime import date

import pytest

from notices.case_documents import agreement_document, claim_statement_document
from notices.documents import html_render, pdf_render
from replenish.models import ArrearsCase
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.unit_events import Party, unit_record_bankruptcy
from tests.factories import SYSTEM, ArrearsRowFactory, UserFactory, import_rows
from tests.notices.test_document_contents import AGENCY, pages
from tests.screenshots import pdf_page_png

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)


def flat(text: str) -> str:
    return re.sub(r"\s*\n\s*", "", text)


@pytest.fixture
def case(settings):
    for name, value in AGENCY.items():
        setattr(settings, name, value)
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=1, person_no=2, due_date="2026-02-15"),
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11", due_date="2025-12-15"),
        ]
    )
    return ArrearsCase.objects.get()


def test_the_signed_agreement_pdf_has_the_parties_schedule_account_and_seals(case):
    # given an installment agreement of 3 months signed on 1 March 2026
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=SYSTEM, drafted_on=TODAY)
    agreement = agreement_sign(
        agreement_id=draft.pk, actor=SYSTEM, signed_on=TODAY, signatory="王会计"
    )

    # when it is printed
    pdf = pdf_render(agreement_document(agreement))
    pdf_page_png(pdf, "document-agreement")
    text = flat("".join(pages(pdf)))

    # then
    installments = list(agreement.installments.order_by("seq"))
    for expected in (
        "社会保险费补缴协议",
        f"协议编号：{agreement.number}",
        "甲方",
        f"{AGENCY['AGENCY_NAME']}（征缴部门）",
        "乙方",
        "单位1有限公司",
        "二、分期计划（共 3 期）",
        "2026年4月1日",
        f"{installments[-1].amount:,.2f}",
        f"{agreement.total:,.2f}",
        AGENCY["PAYEE_NAME"],
        AGENCY["PAYEE_BANK"],
        AGENCY["PAYEE_ACCOUNT"],
        f"注明协议编号 {agreement.number}",
        AGENCY["AGENCY_ADDRESS"],
        "甲方（盖章）",
        "乙方（盖章）",
        "签字：王会计",
        "日期：2026年3月1日",
    ):
        assert expected in text, expected


def test_the_claim_statement_pdf_has_the_tiers_account_and_seal(case):
    # given the unit's bankruptcy accepted on 10 February 2026
    event = unit_record_bankruptcy(
        unit_id=case.unit_id, court="上海市第三中级人民法院", court_case_no="(2026)沪03破12号",
        accepted_on=date(2026, 2, 10), liquidation_group=Party(name="某某清算组", head="李律师"),
        actor=SYSTEM, today=TODAY,
    )  # fmt: skip

    # when the claim statement is printed
    pdf = pdf_render(claim_statement_document(event, today=date(2026, 6, 1)))
    pdf_page_png(pdf, "document-claim-statement")
    text = flat("".join(pages(pdf)))

    # then
    for expected in (
        "社会保险费债权申报书",
        "(2026)沪03破12号",
        "某某清算组",
        "第一顺序：职工债权",
        "第二顺序：社会保险费",
        "普通破产债权",
        "2026年2月9日",
        AGENCY["PAYEE_ACCOUNT"],
        AGENCY["AGENCY_ADDRESS"],
        "（盖章）",
        "2026年6月1日",
    ):
        assert expected in text, expected
    # and the HTML of the same document is the same text
    assert "某某清算组" in html_render(claim_statement_document(event))


def test_staff_download_the_agreement_as_pdf_from_its_admin_page(client, case):
    # given a signed agreement and a collection clerk who may view it
    draft = agreement_draft(case_id=case.pk, installment_count=2, actor=SYSTEM, drafted_on=TODAY)
    agreement = agreement_sign(agreement_id=draft.pk, actor=SYSTEM, signed_on=TODAY)
    client.force_login(UserFactory(permissions=["replenish.view_agreement"]))

    # when
    response = client.get(f"/admin/replenish/agreement/{agreement.pk}/document/?format=pdf")

    # then
    assert response["Content-Type"] == "application/pdf"
    assert agreement.number in "".join(pages(response.content))


def test_the_agreement_and_the_claim_statement_in_english(case):
    # given a signed agreement and the unit's bankruptcy
    draft = agreement_draft(case_id=case.pk, installment_count=2, actor=SYSTEM, drafted_on=TODAY)
    agreement = agreement_sign(agreement_id=draft.pk, actor=SYSTEM, signed_on=TODAY)
    event = unit_record_bankruptcy(
        unit_id=case.unit_id, court="上海市第三中级人民法院", court_case_no="(2026)沪03破12号",
        accepted_on=date(2026, 2, 10), liquidation_group=Party(name="某某清算组", head="李律师"),
        actor=SYSTEM, today=TODAY,
    )  # fmt: skip

    # when both are printed in English
    text = re.sub(
        r"\s+", " ", " ".join(pages(pdf_render(agreement_document(agreement, language="en"))))
    )
    claim = re.sub(
        r"\s+", " ", " ".join(pages(pdf_render(claim_statement_document(event, language="en"))))
    )

    # then their fixed texts are English (names and addresses stay as registered)
    for expected in (
        "Social insurance premium replenishment agreement",
        "While this agreement is in force, no late fee accrues",
        "Party A (seal)",
        "(insured unit)",
    ):
        assert expected in text, expected
    for expected in ("claim statement", "First rank: the employees' claims", "(seal)"):
        assert expected in claim, expected
    for chinese in ("协议", "乙方", "滞纳金", "债权", "顺序", "盖章"):
        assert chinese not in text + claim, chinese
