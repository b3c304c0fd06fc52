"""The document contexts (what the printed agreement and claim statement show, for the HTML pages
and the PDF pipeline alike) and capital numerals."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from replenish.documents import agreement_document_context, claim_statement_context, rmb_upper
from replenish.models import ArrearsCase
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_bankruptcy,
    unit_record_split,
)
from tests.factories import SYSTEM, ArrearsRowFactory, PartyFactory, import_rows

D = Decimal
TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("amount", "upper"),
    [
        ("1358.16", "壹仟叁佰伍拾捌元壹角陆分"),
        ("100010.00", "壹拾万零壹拾元整"),
        ("1005.00", "壹仟零伍元整"),
        ("1000005.00", "壹佰万零伍元整"),
        ("100000.00", "壹拾万元整"),
        ("100000001.00", "壹亿零壹元整"),
        ("1000010000.00", "壹拾亿零壹万元整"),
        ("10.50", "壹拾元伍角"),
        ("10.05", "壹拾元零伍分"),
        ("0.05", "伍分"),
        ("0.00", "零元整"),
        ("20304.70", "贰万零叁佰零肆元柒角"),
    ],
)
def test_amounts_in_capital_numerals(amount, upper):
    assert rmb_upper(D(amount)) == upper


@pytest.fixture(autouse=True)
def chinese():
    """The documents read in the active language: Chinese, as on the agency's pages."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def rows():
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=1, person_no=2, employer_amount="300.00",
                              employee_amount="33.33", due_date="2026-02-15"),
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11", due_date="2025-12-15"),
        ]
    )  # fmt: skip
    return ArrearsCase.objects.get()


@pytest.mark.django_db
def test_the_signed_agreement_shows_what_was_fixed_at_signing(rows):
    # given a split successor's agreement, signed 2026-03-01
    unit_record_split(
        unit_id=rows.unit_id,
        successors=[PartyFactory(share="1/2", name="承继甲有限公司"), PartyFactory(share="1/2")],
        document=EventDocument(occurred_on=date(2026, 2, 20), document_ref="沪市监分立〔2026〕3号"),
        actor=SYSTEM,
        today=TODAY,
    )
    successor = ArrearsCase.objects.filter(predecessor=rows).order_by("pk").first()
    draft = agreement_draft(case_id=successor.pk, installment_count=2, actor=SYSTEM,
                            drafted_on=TODAY)  # fmt: skip
    agreement = agreement_sign(agreement_id=draft.pk, actor=SYSTEM, signed_on=TODAY)

    # when
    context = agreement_document_context(agreement, today=date(2026, 9, 1))

    # then
    assert context["title"] == "社会保险费补缴协议"
    assert context["counterparty"]["role"] == "分立方"
    assert context["counterparty"]["name"] == "承继甲有限公司"
    assert context["unit"]["name"] == "单位1有限公司"
    assert context["predecessor_case_no"] == rows.case_no
    assert context["succession"]["share"] == "1/2"
    assert context["succession"]["document_ref"] == "沪市监分立〔2026〕3号"
    assert context["as_of"] == TODAY
    assert context["total"] == context["principal"] + context["late_fee"] == agreement.total
    assert [p["period"] for p in context["periods"]] == ["2025-11", "2025-12"]
    assert sum(p["total"] for p in context["periods"]) == agreement.total
    assert [i["seq"] for i in context["installments"]] == [1, 2]
    assert context["terms"][0].startswith("乙方作为原参保单位欠缴社会保险费的承继方")
    assert not context["is_draft"]


@pytest.mark.django_db
def test_a_liquidation_agreement_says_the_fee_stops_at_acceptance(rows):
    # given
    unit_record_bankruptcy(
        unit_id=rows.unit_id, court="上海市第三中级人民法院", court_case_no="(2026)沪03破12号",
        accepted_on=date(2026, 2, 10), liquidation_group=Party(name="清算组", head="李律师"),
        actor=SYSTEM, today=TODAY,
    )  # fmt: skip
    draft = agreement_draft(case_id=rows.pk, installment_count=1, actor=SYSTEM, drafted_on=TODAY)

    # when
    context = agreement_document_context(draft, today=TODAY)

    # then
    assert context["title"] == "清算协议"
    assert context["is_draft"]
    assert any("第四十六条" in term for term in context["terms"])
    assert context["succession"]["court_case_no"] == "(2026)沪03破12号"


@pytest.mark.django_db
def test_the_claim_statement_puts_each_portion_in_its_tier(rows):
    # given acceptance on 2026-02-10: fee to 2026-02-09 on 1,000.00 due 2025-12-15 (56 days:
    # 28.00) and on 1,000.00 due 2026-01-15 (25 days: 12.50); 333.33 is due after acceptance
    event = unit_record_bankruptcy(
        unit_id=rows.unit_id, court="法院", court_case_no="(2026)破1号",
        accepted_on=date(2026, 2, 10), liquidation_group=Party(name="清算组", head="李律师"),
        actor=SYSTEM, today=TODAY,
    )  # fmt: skip

    # when
    context = claim_statement_context(event, today=date(2026, 6, 1))

    # then
    assert [(t["key"], t["amount"]) for t in context["tiers"]] == [
        ("employee", D("433.33")),
        ("employer", D("1900.00")),
        ("late_fee", D("40.50")),
    ]
    assert context["total"] == D("2373.83")
    assert context["total_upper"] == "贰仟叁佰柒拾叁元捌角叁分"
    assert context["fee_through"] == date(2026, 2, 9)
    assert [(p["name"], p["periods"], p["employee"]) for p in context["persons"]] == [
        ("职工1", 2, D("400.00")),
        ("职工2", 1, D("33.33")),
    ]
    assert all("*" in p["id_number"] for p in context["persons"])


@pytest.mark.django_db
def test_a_draft_whose_term_is_no_longer_allowed_still_prints_without_a_schedule(rows, settings):
    # given a 6-month draft, then the longest term is lowered to 3
    draft = agreement_draft(case_id=rows.pk, installment_count=6, actor=SYSTEM, drafted_on=TODAY)
    settings.INSTALLMENT_MAX_MONTHS = 3

    # when
    context = agreement_document_context(draft, today=TODAY)

    # then the amounts are shown, the schedule is not
    assert context["is_draft"]
    assert context["installments"] == []
    assert context["total"] == sum(p["total"] for p in context["periods"])
