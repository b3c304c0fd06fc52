"""A case walked from its notice to each ending of enforcement, through the real services only:
the transfer pays in full; the balance is short, a guarantee is given and the deferred-payment
agreement is fulfilled; no guarantee, the court rules and the auction proceeds settle the case;
the unit pays while the demand runs. Every document is rendered (HTML and PDF, Chinese) and its
text checked; the ledger invariant and `check_ledger` hold after every step."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import translation
from pypdf import PdfReader

from enforcement.documents import enforcement_document
from enforcement.models import (
    CloseReason,
    DocumentKind,
    Dossier,
    DossierState,
    EnforcementDocument,
    Guarantee,
)
from enforcement.services import (
    BankReply,
    GuaranteeGiven,
    dossier_court_approve,
    dossier_court_propose,
    dossier_court_rule,
    dossier_deferred_sign,
    dossier_demand_issue,
    dossier_document_deliver,
    dossier_fine_refer,
    dossier_guarantee_require,
    dossier_inquiry_answer,
    dossier_inquiry_send,
    dossier_money_confirm,
    dossier_open,
    dossier_transfer_approve,
    dossier_transfer_grant,
    dossier_transfer_notify,
    dossier_transfer_propose,
)
from notices.documents import html_render, pdf_render
from operations.daily import daily_run
from replenish.models import (
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    Arrival,
    CaseState,
    LedgerEntry,
    MatchedBy,
)
from replenish.selectors import case_owed
from replenish.services.ledger import ledger_differences
from tests.enforcement.helpers import (
    AFTER_DEMAND,
    COURT_CLOSES,
    COURT_OPENS,
    OPENED,
    SERVED,
    Staff,
    overdue_case,
    receipt,
)
from tests.factories import ArrivalRowFactory, all_table_counts, import_arrivals
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
COURT_USCC = sample_uscc(77, kind="11")
DECISION_NO = "沪医保划〔2026〕3号"
COURT_CASE_NO = "(2026)沪0101执123号"


@pytest.fixture
def staff():
    return Staff()


def ledger_holds() -> None:
    """What every case owes is what its ledger says, never below zero, and the cached figures
    agree with the ledger (`check_ledger`)."""
    for case in ArrearsCase.objects.all():
        sums = LedgerEntry.objects.filter(case=case).aggregate(
            principal=Sum(F("employer") + F("employee")), fee=Sum("late_fee")
        )
        assert (sums["principal"], sums["fee"]) == (case.principal_unpaid, case.fee_unpaid)
        assert case.principal_unpaid >= 0 and case.fee_unpaid >= 0
    assert ledger_differences() == []
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip() == "ledger and cached figures agree"


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def rendered(document: EnforcementDocument, *phrases: str) -> str:
    """The document in Chinese as HTML and as PDF: both say every phrase (the PDF read back
    with pypdf; its lines wrap, so whitespace is ignored). Returns the document's text."""
    document.refresh_from_db()
    doc = enforcement_document(document, language="zh-hans")
    html = flat(html_render(doc))
    pdf_bytes = pdf_render(doc)
    SHOTS.mkdir(parents=True, exist_ok=True)  # to look at: pdftoppm -png var/screenshots/…
    (SHOTS / f"enforcement-{document.kind}.pdf").write_bytes(pdf_bytes)
    pdf = flat("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages))
    for phrase in (document.number, doc.title, "医疗保障事务中心", "法律依据", *phrases):
        assert flat(phrase) in html, f"{document.number}: {phrase!r} not in the HTML"
        assert flat(phrase) in pdf, f"{document.number}: {phrase!r} not in the PDF"
    return doc.text()


def step(dossier: Dossier, state: str) -> Dossier:
    dossier.refresh_from_db()
    assert dossier.state == state
    ledger_holds()
    return dossier


def arrive(*, ref: str, on: date, amount: D, payer: str, reference: str) -> Arrival:
    import_arrivals(
        [
            ArrivalRowFactory(
                arrival_ref=ref,
                arrived_on=on.isoformat(),
                amount=str(amount),
                payer_uscc=payer,
                reference=reference,
                channel="bank",
            )
        ],
        today=on,
    )
    return Arrival.objects.get(arrival_ref=ref)


def served_demand(staff, case) -> Dossier:
    """The dossier opened on the overdue case, the written demand issued and served."""
    dossier = dossier_open(case_id=case.pk, actor=staff.clerk, today=OPENED)
    step(dossier, DossierState.OPENED)
    demand = dossier_demand_issue(dossier_id=dossier.pk, actor=staff.clerk, today=OPENED)
    step(dossier, DossierState.DEMAND_ISSUED)
    dossier_document_deliver(
        document_id=demand.pk,
        channel="post",
        delivered_on=SERVED,
        proof=receipt(),
        actor=staff.clerk,
        today=SERVED,
    )
    dossier = step(dossier, DossierState.DEMAND_SERVED)
    assert dossier.demand_deadline == date(2026, 3, 26)  # 10 working days
    assert (dossier.court_window_opens, dossier.court_window_closes) == (COURT_OPENS, COURT_CLOSES)
    text = rendered(
        demand,
        "催告书",
        "单位1有限公司",
        "陈述权和申辩权",
        "《中华人民共和国行政强制法》第三十五条",
        "10个工作日",
        "送达日期",
        "2026-03-12",
    )
    assert "N310101-2026-000001" in text  # the notice enforced, quoted for payment
    return dossier


def inquired(staff, dossier, replies) -> Dossier:
    letters = dossier_inquiry_send(
        dossier_id=dossier.pk, banks=["中国工商银行上海分行"], actor=staff.clerk, today=AFTER_DEMAND
    )
    step(dossier, DossierState.INQUIRY_SENT)
    rendered(
        letters[0],
        "协助查询存款账户通知书",
        "中国工商银行上海分行",
        "《中华人民共和国社会保险法》第六十三条",
    )
    dossier_inquiry_answer(
        dossier_id=dossier.pk, replies=replies, actor=staff.clerk, today=AFTER_DEMAND
    )
    return step(dossier, DossierState.INQUIRY_ANSWERED)


def test_the_bank_transfers_what_is_owed_in_full(staff):
    # given an overdue case whose demand was served, and a bank account holding enough
    case = overdue_case(1)
    dossier = served_demand(staff, case)
    dossier = inquired(
        staff,
        dossier,
        [
            BankReply(
                "中国工商银行上海分行", "6222020000000001", "5000.00", AFTER_DEMAND, AFTER_DEMAND
            )
        ],
    )

    # when a clerk proposes the transfer request: the proposer cannot approve it too
    dossier_transfer_propose(dossier_id=dossier.pk, actor=staff.clerk, today=AFTER_DEMAND)
    step(dossier, DossierState.TRANSFER_PROPOSED)
    before = all_table_counts()
    with pytest.raises(PermissionDenied) as refused:
        dossier_transfer_approve(dossier_id=dossier.pk, actor=staff.clerk, today=AFTER_DEMAND)
    assert "another person in collection must" in str(refused.value)
    assert all_table_counts() == before
    step(dossier, DossierState.TRANSFER_PROPOSED)

    # and a second collection user approves: the request goes to the department
    request = dossier_transfer_approve(dossier_id=dossier.pk, actor=staff.chief, today=AFTER_DEMAND)
    dossier = step(dossier, DossierState.TRANSFER_REQUESTED)
    owed = case_owed(case.pk, as_of=AFTER_DEMAND).total
    assert dossier.transfer_amount == owed
    rendered(
        request, "划拨社会保险费申请书", "医疗保障局", "6222020000000001", f"{owed:,.2f}", "催告书"
    )

    # and the department decides, and the bank is notified
    dossier_transfer_grant(
        dossier_id=dossier.pk, decision_no=DECISION_NO, decided_on=date(2026, 3, 30),
        actor=staff.clerk, today=date(2026, 3, 30),
    )  # fmt: skip
    step(dossier, DossierState.TRANSFER_GRANTED)
    [notice] = dossier_transfer_notify(
        dossier_id=dossier.pk, actor=staff.clerk, today=date(2026, 3, 30)
    )
    step(dossier, DossierState.TRANSFER_NOTIFIED)
    owed_then = case_owed(case.pk, as_of=date(2026, 3, 30)).total
    rendered(
        notice,
        "划拨社会保险费通知书",
        DECISION_NO,
        "6222020000000001",
        f"截至 2026-03-30 为 {owed_then:,.2f} 元",
        "此后每日另加滞纳金 0.50 元",
    )

    # and the bank's money arrives quoting the decision number
    on = date(2026, 4, 2)
    due = case_owed(case.pk, as_of=on).total
    arrival = arrive(ref="ICBC-1", on=on, amount=due, payer=case.unit.uscc, reference=DECISION_NO)
    ledger_holds()

    # then it is matched to the case by that reference; finance confirms it; the run settles
    assert (arrival.case_id, arrival.matched_by) == (case.pk, MatchedBy.REFERENCE)
    assert arrival.match_note == f"enforcement {DECISION_NO}"
    with pytest.raises(PermissionDenied):
        dossier_money_confirm(dossier_id=dossier.pk, arrival_id=arrival.pk, actor=staff.clerk)
    dossier_money_confirm(dossier_id=dossier.pk, arrival_id=arrival.pk, actor=staff.cashier)
    step(dossier, DossierState.TRANSFERRED)
    daily_run(as_of=on)
    dossier = step(dossier, DossierState.CLOSED)
    assert (dossier.close_reason, dossier.closed_on) == (CloseReason.SETTLED, on)
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED


def test_a_short_balance_leads_to_a_guarantee_and_a_deferred_agreement_fulfilled(staff):
    # given an overdue case whose accounts hold less than it owes
    case = overdue_case(1)
    dossier = served_demand(staff, case)
    dossier = inquired(
        staff,
        dossier,
        [
            BankReply(
                "中国工商银行上海分行", "6222020000000001", "300.00", AFTER_DEMAND, AFTER_DEMAND
            )
        ],
    )

    # when a transfer is proposed, it is refused (in Chinese for the clerk), changing nothing
    before = all_table_counts()
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        dossier_transfer_propose(dossier_id=dossier.pk, actor=staff.clerk, today=AFTER_DEMAND)
    assert "少于" in refused.value.messages[0] and "担保" in refused.value.messages[0]
    assert all_table_counts() == before

    # and a guarantee is required, and served
    requirement = dossier_guarantee_require(
        dossier_id=dossier.pk, actor=staff.clerk, today=AFTER_DEMAND
    )
    step(dossier, DossierState.GUARANTEE_REQUIRED)
    dossier_document_deliver(
        document_id=requirement.pk, channel="hand", delivered_on=AFTER_DEMAND, proof=receipt(),
        actor=staff.clerk, today=AFTER_DEMAND,
    )  # fmt: skip
    dossier = step(dossier, DossierState.GUARANTEE_REQUIRED)
    assert dossier.guarantee_deadline == date(2026, 4, 13)  # 10 working days (Qingming 04-06)
    rendered(
        requirement, "提供担保通知书", "300.00", "延期缴费协议", "六十日内", "六个月内", "行政复议"
    )

    # and the unit gives a guarantee and signs the deferred-payment agreement
    signed_on = date(2026, 4, 1)
    dossier_deferred_sign(
        dossier_id=dossier.pk,
        guarantee=GuaranteeGiven("guarantor", "上海某担保有限公司", "2000.00", "连带责任保证"),
        installment_count=2,
        signatory="张经理",
        actor=staff.clerk,
        today=signed_on,
    )
    dossier = step(dossier, DossierState.DEFERRED)
    agreement = Agreement.objects.get(pk=dossier.agreement_id)
    assert (agreement.kind, agreement.state) == (AgreementKind.DEFERRED, AgreementState.IN_FORCE)
    assert agreement.title == "社会保险费延期缴费协议"
    assert Guarantee.objects.get(dossier=dossier).value == D("2000.00")
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.AGREEMENT

    # then the daily run closes the dossier: the case is under agreement
    daily_run(as_of=signed_on)
    dossier = step(dossier, DossierState.CLOSED)
    assert dossier.close_reason == CloseReason.AGREEMENT

    # and when the installments are paid, quoting the agreement, it is fulfilled and settled
    paid_on = date(2026, 5, 20)
    arrive(
        ref="PAY-1",
        on=paid_on,
        amount=agreement.total,
        payer=case.unit.uscc,
        reference=agreement.number,
    )
    daily_run(as_of=paid_on)
    ledger_holds()
    assert Agreement.objects.get(pk=agreement.pk).state == AgreementState.FULFILLED
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED


def test_no_guarantee_leads_to_the_court_and_the_auction_proceeds_settle_the_case(staff):
    # given an overdue case whose banks found no account; a guarantee is required, not given
    case = overdue_case(1)
    dossier = served_demand(staff, case)
    part = arrive(ref="PART-1", on=date(2026, 3, 20), amount=D("100.00"), payer=case.unit.uscc,
                  reference="N310101-2026-000001")  # fmt: skip
    daily_run(as_of=date(2026, 3, 20))
    ledger_holds()
    dossier = inquired(staff, dossier, [])
    requirement = dossier_guarantee_require(
        dossier_id=dossier.pk, actor=staff.clerk, today=AFTER_DEMAND
    )
    dossier_document_deliver(
        document_id=requirement.pk, channel="post", delivered_on=AFTER_DEMAND, proof=receipt(),
        actor=staff.clerk, today=AFTER_DEMAND,
    )  # fmt: skip
    daily_run(as_of=date(2026, 4, 14))
    dossier = step(dossier, DossierState.GUARANTEE_LAPSED)

    # when the court application is proposed before the lawsuit period ended: refused
    before = all_table_counts()
    with pytest.raises(ValidationError) as refused:
        dossier_court_propose(dossier_id=dossier.pk, actor=staff.clerk, today=date(2026, 4, 20))
    assert "from 2026-09-03" in refused.value.messages[0]
    assert all_table_counts() == before
    # and after the three months: refused too
    with pytest.raises(ValidationError) as refused:
        dossier_court_propose(
            dossier_id=dossier.pk, actor=staff.clerk, today=COURT_CLOSES + timedelta(days=1)
        )
    assert "ended on 2026-12-02" in refused.value.messages[0]

    # and within the window: proposed by one, approved by another
    dossier_court_propose(dossier_id=dossier.pk, actor=staff.clerk, today=COURT_OPENS)
    step(dossier, DossierState.COURT_PROPOSED)
    with pytest.raises(PermissionDenied):
        dossier_court_approve(
            dossier_id=dossier.pk,
            court="上海市黄浦区人民法院",
            actor=staff.clerk,
            today=COURT_OPENS,
        )
    application = dossier_court_approve(
        dossier_id=dossier.pk, court="上海市黄浦区人民法院", court_uscc=COURT_USCC,
        actor=staff.chief, today=COURT_OPENS,
    )  # fmt: skip
    step(dossier, DossierState.COURT_APPLIED)

    # then the application lists its evidence from the ledger
    owed = case_owed(case.pk, as_of=COURT_OPENS)
    text = rendered(
        application,
        "强制执行申请书",
        "上海市黄浦区人民法院",
        "证据目录",
        "补缴通知单",
        "N310101-2026-000001",
        "送达凭证",
        "缴款期限",
        "2026-03-09",
        "2025-12",
        f"{owed.late_fee:,.2f}",
        f"{owed.total:,.2f}",
        "2026-03-20",
        "100.00",
        "CG310101-2026-000001",
        "2026-03-12",
        "第五十三条",
    )
    assert "未查询到" in text

    # and a fine referral is recorded on its own (Art. 86)
    referral = dossier_fine_refer(
        dossier_id=dossier.pk, department="上海市医疗保障局", actor=staff.clerk, today=COURT_OPENS
    )
    rendered(
        EnforcementDocument.objects.get(number=referral.referral_no),
        "第八十六条",
        f"{owed.total * 3:,.2f}",
    )

    # when the court rules and the auction's proceeds arrive from the court, quoting its case
    ruled_on = date(2026, 10, 9)
    dossier_court_rule(
        dossier_id=dossier.pk, court_case_no=COURT_CASE_NO, ruled_on=ruled_on,
        ruling="查封、拍卖被执行人财产", actor=staff.clerk, today=ruled_on,
    )  # fmt: skip
    step(dossier, DossierState.COURT_RULED)
    on = date(2026, 11, 16)
    due = case_owed(case.pk, as_of=on).total
    proceeds = arrive(ref="COURT-1", on=on, amount=due, payer=COURT_USCC, reference=COURT_CASE_NO)
    assert (proceeds.case_id, proceeds.matched_by) == (case.pk, MatchedBy.REFERENCE)
    dossier_money_confirm(dossier_id=dossier.pk, arrival_id=proceeds.pk, actor=staff.cashier)
    step(dossier, DossierState.PROCEEDS_RECEIVED)
    daily_run(as_of=on)

    # then the case is settled and the dossier closed
    dossier = step(dossier, DossierState.CLOSED)
    assert dossier.close_reason == CloseReason.SETTLED
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED
    assert part.pk != proceeds.pk
    assert {d.kind for d in dossier.documents.all()} == {
        DocumentKind.DEMAND,
        DocumentKind.INQUIRY,
        DocumentKind.GUARANTEE,
        DocumentKind.COURT_APPLICATION,
        DocumentKind.FINE_REFERRAL,
    }


def test_paid_while_the_demand_runs_the_dossier_closes(staff):
    # given a dossier whose demand was served
    case = overdue_case(1)
    dossier = served_demand(staff, case)

    # when the unit pays everything within the ten working days, quoting its notice
    on = date(2026, 3, 18)
    arrive(ref="PAY-1", on=on, amount=case_owed(case.pk, as_of=on).total, payer=case.unit.uscc,
           reference="N310101-2026-000001")  # fmt: skip
    daily_run(as_of=on)

    # then the case is settled and the dossier closed as settled
    dossier = step(dossier, DossierState.CLOSED)
    assert (dossier.close_reason, dossier.closed_on) == (CloseReason.SETTLED, on)
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED
