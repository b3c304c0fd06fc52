"""The printable documents of agreements and bankruptcies, as plain data.

`agreement_document_context` (the signed agreement, 补缴协议 / 清算协议) and
`claim_statement_context` (the bankruptcy claim statement, 债权申报) return dicts of strings,
dates, Decimals, lists and dicts only, so the HTML templates under `templates/` and the PDF
pipeline of `notices/` can both render them. Amounts are Decimal yuan; `*_upper` are the same
amounts in capital Chinese numerals, as financial documents write them (《支付结算办法》).
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from kernel.money import DEFAULT_RATE_TABLE, line_fee_due, to_fen
from replenish.models import OPEN_STATES, Agreement, AgreementKind, AgreementState, ArrearsLine
from replenish.selectors import (
    LINE_FEE_FIELDS,
    case_owed,
    debt_by_period,
    late_fee_policy,
    line_fee_state,
)
from replenish.services.agreements import agreement_preview
from units.identifiers import mask_id_number
from units.models import CounterpartyKind, UnitEvent, UnitEventKind

ZERO = Decimal("0.00")

# --- capital numerals -------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS = ("", "万", "亿", "万亿")
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))


def _group_upper(group: int) -> str:
    """0 < group < 10000 in capitals: inner zeros read once, trailing zeros not at all."""
    text, zero = "", False
    for place, unit in _PLACES:
        digit = group // place % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
        text += _DIGITS[digit] + unit
        zero = False
    return text


def rmb_upper(amount: Decimal) -> str:
    """An amount of yuan in capital numerals: 1358.16 -> 壹仟叁佰伍拾捌元壹角陆分,
    100010.00 -> 壹拾万零壹拾元整, 0.05 -> 伍分."""
    yuan, rest = divmod(to_fen(amount), 100)
    jiao, fen = divmod(rest, 10)
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    text, pending_zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or group < 1000):
            text += "零"
        text += _group_upper(group) + _GROUP_UNITS[index]
        pending_zero = False
    if text:
        text += "元"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    if not jiao and not fen:
        text = (text or "零元") + "整"
    return text


def _agency() -> dict:
    return {
        "name": settings.AGENCY_NAME,
        "contact": settings.AGENCY_CONTACT,
        "address": settings.AGENCY_ADDRESS,
    }


def _payee() -> dict:
    """The account payments go into (户名, 开户行, 账号)."""
    return {
        "name": settings.PAYEE_NAME,
        "bank": settings.PAYEE_BANK,
        "account": settings.PAYEE_ACCOUNT,
    }


def _period_rows(stored: list[dict]) -> list[dict]:
    money = ("employer", "employee", "late_fee", "total")
    return [{**row, **{k: Decimal(row[k]) for k in money}} for row in stored]


# --- the agreement -----------------------------------------------------------------------------

ROLE_LABELS: dict[str, str] = {
    CounterpartyKind.UNIT: "参保单位",
    CounterpartyKind.MERGING_PARTY: "合并方",
    CounterpartyKind.SEPARATED_PARTY: "分立方",
    CounterpartyKind.LIQUIDATION_GROUP: "清算组",
    CounterpartyKind.COMPETENT_AUTHORITY: "主管部门",
}
KIND_LABELS: dict[str, str] = {
    AgreementKind.INSTALLMENT: "分期补缴",
    AgreementKind.MERGER: "合并承继补缴",
    AgreementKind.SPLIT: "分立承继补缴",
    AgreementKind.LIQUIDATION: "破产清算",
    AgreementKind.AUCTION: "拍卖出售（租赁）承继补缴",
}
EVENT_LABELS: dict[str, str] = {
    UnitEventKind.MERGER: "合并",
    UnitEventKind.SPLIT: "分立",
    UnitEventKind.BANKRUPTCY: "破产",
    UnitEventKind.AUCTION_SALE: "拍卖出售",
    UnitEventKind.AUCTION_LEASE: "拍卖租赁",
}
LEGAL_BASIS = [
    "《中华人民共和国社会保险法》第八十六条",
    "《社会保险费征缴暂行条例》",
]
BANKRUPTCY_BASIS = [
    "《中华人民共和国企业破产法》第四十六条：附利息的债权自破产申请受理时起停止计息。",
    "《中华人民共和国企业破产法》第一百一十三条（破产财产的清偿顺序）。",
]


def _rate_text() -> str:
    """The daily rate in force, as the law writes it: 0.0005 -> 万分之五."""
    per_ten_thousand = DEFAULT_RATE_TABLE[-1].daily_rate * 10000
    if per_ten_thousand == per_ten_thousand.to_integral_value() and 0 < per_ten_thousand < 10:
        return f"按日加收万分之{'〇一二三四五六七八九'[int(per_ten_thousand)]}的滞纳金"
    return f"按日加收{DEFAULT_RATE_TABLE[-1].daily_rate * 100:f}%的滞纳金"


def _succession(agreement: Agreement) -> dict | None:
    counterparty = agreement.counterparty
    event: UnitEvent | None = counterparty.event
    if event is None:
        return None
    return {
        "kind": event.kind,
        "label": EVENT_LABELS[event.kind],
        "occurred_on": event.occurred_on,
        "document_ref": event.document_ref,
        "court": event.court,
        "court_case_no": event.court_case_no,
        "share": str(counterparty.share) if counterparty.share is not None else "",
    }


def _terms(agreement: Agreement, *, grace_days: int) -> list[str]:
    party = "乙方"
    terms = [
        "本协议约定的补缴总额为截至签订之日欠缴的社会保险费本金及依法计算至该日的滞纳金，"
        "滞纳金于签订时确定并记账。",
        f"{party}按下列分期计划按月缴纳，每期缴纳时请注明协议编号；款项以到账之日为缴纳之日。",
        "本协议有效期间，未缴本金不再加收滞纳金。",
        f"任一期款项逾期{grace_days}日仍未足额缴纳的，视为违约，本协议终止；"
        f"自该期应缴之日的次日起，对当时尚未缴纳的本金依法{_rate_text()}，"
        "甲方可依法采取追缴措施。",
    ]
    if agreement.kind == AgreementKind.LIQUIDATION:
        terms.insert(
            2,
            "依照《企业破产法》第四十六条，滞纳金计算至人民法院受理破产申请之日的前一日为止；"
            "清算组应将本协议所列款项列入债权申报并依法定顺序清偿。",
        )
    if agreement.kind in (AgreementKind.MERGER, AgreementKind.SPLIT, AgreementKind.AUCTION):
        terms.insert(
            0,
            f"{party}作为原参保单位欠缴社会保险费的承继方，自愿承担本协议所列欠费。",
        )
    return terms


def agreement_document_context(agreement: Agreement, *, today: date | None = None) -> dict:
    """Everything the printed agreement shows. A signed agreement shows what was fixed at
    signing; a draft shows what signing today would fix (marked as a draft)."""
    today = today or timezone.localdate()
    case = agreement.case
    counterparty = agreement.counterparty
    signed = agreement.signed_on is not None
    if signed:
        as_of = agreement.signed_on
        principal, late_fee, total = agreement.principal, agreement.late_fee, agreement.total
        if principal is None or late_fee is None or total is None:  # fixed when it was signed
            raise ValueError(f"agreement {agreement.number}: signed without its amounts fixed")
        periods = _period_rows(agreement.periods)
        installments = [
            {"seq": i.seq, "due_on": i.due_on, "amount": i.amount}
            for i in agreement.installments.order_by("seq")
        ]
    else:
        # An unsigned draft (or a withdrawn one) shows what signing on that day would fix.
        as_of = max(today, agreement.drafted_on)
        owed = case_owed(case.pk, as_of=as_of)
        principal, late_fee, total = owed.principal, owed.late_fee, owed.total
        periods = _period_rows(debt_by_period([case.pk], as_of=as_of))
        try:
            schedule = agreement_preview(
                case=case, count=agreement.installment_count, signed_on=as_of
            ).installments
        except ValidationError:  # owes nothing any more, or the term is no longer allowed
            schedule = []
        installments = [{"seq": i.seq, "due_on": i.due_on, "amount": i.amount} for i in schedule]
    grace_days = settings.INSTALLMENT_GRACE_DAYS
    return {
        "title": agreement.title,
        "number": agreement.number,
        "state": agreement.state,
        "state_label": agreement.get_state_display(),
        "is_draft": agreement.state == AgreementState.DRAFT,
        "kind": agreement.kind,
        "kind_label": KIND_LABELS[agreement.kind],
        "agency": _agency(),
        "payee": _payee(),
        "counterparty": {
            "role": ROLE_LABELS[counterparty.kind],
            "name": counterparty.display_name,
            "uscc": counterparty.display_uscc,
            "head": counterparty.head,
            "contact": counterparty.contact,
        },
        "unit": {"name": case.unit.name, "uscc": case.unit.uscc, "region_code": case.region_code},
        "case_no": case.case_no,
        "predecessor_case_no": case.predecessor.case_no if case.predecessor is not None else "",
        "succession": _succession(agreement),
        "as_of": as_of,
        "principal": principal,
        "late_fee": late_fee,
        "total": total,
        "total_upper": rmb_upper(total),
        "periods": periods,
        "installments": installments,
        "installment_count": len(installments),
        "grace_days": grace_days,
        "terms": _terms(agreement, grace_days=grace_days),
        "legal_basis": LEGAL_BASIS
        + (BANKRUPTCY_BASIS if agreement.kind == AgreementKind.LIQUIDATION else []),
        "signed_on": agreement.signed_on,
        "signatory": agreement.signatory,
        "drafted_on": agreement.drafted_on,
        "ended_on": agreement.ended_on,
        "end_reason": agreement.end_reason,
        "note": agreement.note,
    }


# --- the claim statement -----------------------------------------------------------------------

TIERS = (
    (
        "employee",
        "第一顺序：职工债权",
        "欠缴的应当划入职工个人账户的基本医疗保险费（个人缴纳部分）",
        "《企业破产法》第一百一十三条第一款第（一）项",
    ),
    (
        "employer",
        "第二顺序：社会保险费",
        "欠缴的除前项以外的基本医疗保险费（单位缴纳部分，划入统筹基金）",
        "《企业破产法》第一百一十三条第一款第（二）项",
    ),
    (
        "late_fee",
        "普通破产债权",
        "破产申请受理前产生的滞纳金",
        "《企业破产法》第一百一十三条第一款第（三）项、第四十六条",
    ),
)


def claim_statement_context(event: UnitEvent, *, today: date | None = None) -> dict:
    """The claim statement (债权申报) the agency files with the liquidation group: the unit's
    unpaid debt in its open cases, in three priority tiers, the late fee to the day before
    the court's acceptance."""
    if event.kind != UnitEventKind.BANKRUPTCY:
        raise ValueError(f"event {event.pk} is a {event.kind}, not a bankruptcy")
    today = today or timezone.localdate()
    fee_through = event.occurred_on - timedelta(days=1)
    policy = late_fee_policy()
    cases = list(
        event.unit.cases.filter(state__in=OPEN_STATES)
        .order_by("case_no")
        .values_list("pk", "case_no")
    )
    lines = (
        ArrearsLine.objects.filter(case_id__in=[pk for pk, _no in cases])
        .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
        .values_list("period", "person__name", "person__id_number", *LINE_FEE_FIELDS)
        .order_by("person__id_number", "period")
    )
    by_person: dict[str, dict] = {}
    by_period: dict[str, dict] = defaultdict(
        lambda: {"employee": ZERO, "employer": ZERO, "late_fee": ZERO}
    )
    totals = {"employee": ZERO, "employer": ZERO, "late_fee": ZERO}
    for period, name, id_number, *columns in lines.iterator(chunk_size=5000):
        # The line's fee stops the day before acceptance, so as of `today` it is the fee to then.
        fee = line_fee_due(line_fee_state(*columns), as_of=max(today, fee_through), policy=policy)
        amounts = {"employer": columns[0], "employee": columns[1], "late_fee": fee}
        person = by_person.setdefault(
            id_number,
            {"name": name, "id_number": mask_id_number(id_number), "periods": 0, "employee": ZERO},
        )
        person["periods"] += 1
        person["employee"] += columns[1]
        for key, value in amounts.items():
            by_period[period][key] += value
            totals[key] += value
    group = event.parties.get()
    total = sum(totals.values(), ZERO)
    return {
        "title": "社会保险费债权申报书",
        "creditor": _agency(),
        # Where the liquidation group pays the distributions to the agency.
        "payee": _payee(),
        "debtor": {"name": event.unit.name, "uscc": event.unit.uscc},
        "court": event.court,
        "court_case_no": event.court_case_no,
        "accepted_on": event.occurred_on,
        "fee_through": fee_through,
        "as_of": today,
        "liquidation_group": {"name": group.name, "head": group.head, "contact": group.contact},
        "case_nos": [case_no for _pk, case_no in cases],
        "tiers": [
            {
                "key": key,
                "label": label,
                "what": what,
                "basis": basis,
                "amount": totals[key],
                "amount_upper": rmb_upper(totals[key]),
            }
            for key, label, what, basis in TIERS
        ],
        "total": total,
        "total_upper": rmb_upper(total),
        "periods": [
            {"period": period, **amounts, "total": sum(amounts.values(), ZERO)}
            for period, amounts in sorted(by_period.items())
        ],
        "persons": list(by_person.values()),  # in ID number order
        "legal_basis": BANKRUPTCY_BASIS + LEGAL_BASIS[:1],
    }
