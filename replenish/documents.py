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
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.money import DEFAULT_RATE_TABLE, line_fee_due, to_fen
from replenish.models import (
    OPEN_STATES,
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
)
from replenish.selectors import (
    LINE_FEE_FIELDS,
    case_owed,
    debt_by_period,
    late_fee_policy,
    line_fee_state,
)
from replenish.services.agreements import agreement_preview
from units.identifiers import mask_id_number
from units.models import CounterpartyKind, Unit, UnitEvent, UnitEventKind

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

# The texts of the documents are English msgids with their Chinese in the project catalogue:
# a document reads in the language active when its context is built (Chinese by default).
ROLE_LABELS: dict[str, Promise] = {
    CounterpartyKind.UNIT: pgettext_lazy("agreement party", "insured unit"),
    CounterpartyKind.MERGING_PARTY: pgettext_lazy("agreement party", "merging party"),
    CounterpartyKind.SEPARATED_PARTY: pgettext_lazy("agreement party", "separated party"),
    CounterpartyKind.LIQUIDATION_GROUP: pgettext_lazy("agreement party", "liquidation group"),
    CounterpartyKind.COMPETENT_AUTHORITY: pgettext_lazy("agreement party", "competent authority"),
}
KIND_LABELS: dict[str, Promise] = {
    AgreementKind.INSTALLMENT: _("replenishment by installments"),
    AgreementKind.MERGER: _("replenishment by the successor of a merger"),
    AgreementKind.SPLIT: _("replenishment by the successor of a split"),
    AgreementKind.LIQUIDATION: _("bankruptcy liquidation"),
    AgreementKind.AUCTION: _("replenishment by the buyer or lessee at an auction"),
}
EVENT_LABELS: dict[str, Promise] = {
    UnitEventKind.MERGER: pgettext_lazy("unit event", "merger"),
    UnitEventKind.SPLIT: pgettext_lazy("unit event", "split"),
    UnitEventKind.BANKRUPTCY: pgettext_lazy("unit event", "bankruptcy"),
    UnitEventKind.AUCTION_SALE: pgettext_lazy("unit event", "sale by auction"),
    UnitEventKind.AUCTION_LEASE: pgettext_lazy("unit event", "lease by auction"),
}
LEGAL_BASIS = [
    _("Social Insurance Law of the People's Republic of China, Art. 86"),
    _("Interim Regulations on the Collection and Payment of Social Insurance Premiums"),
]
BANKRUPTCY_BASIS = [
    _(
        "Enterprise Bankruptcy Law, Art. 46: interest on claims stops when the court accepts "
        "the bankruptcy application."
    ),
    _("Enterprise Bankruptcy Law, Art. 113 (order of payment from the bankruptcy estate)."),
]


def _rate_text() -> str:
    """The daily rate in force, as the law writes it: 0.0005 -> 万分之五."""
    per_ten_thousand = DEFAULT_RATE_TABLE[-1].daily_rate * 10000
    if (
        translation.get_language().startswith("zh")
        and per_ten_thousand == per_ten_thousand.to_integral_value()
        and 0 < per_ten_thousand < 10
    ):
        return f"按日加收万分之{'〇一二三四五六七八九'[int(per_ten_thousand)]}的滞纳金"
    return _("a late fee of %(rate)s%% a day") % {
        "rate": f"{DEFAULT_RATE_TABLE[-1].daily_rate * 100:f}"
    }


def _succession(agreement: Agreement) -> dict | None:
    counterparty = agreement.counterparty
    event: UnitEvent | None = counterparty.event
    if event is None:
        return None
    return {
        "kind": event.kind,
        "label": str(EVENT_LABELS[event.kind]),
        "occurred_on": event.occurred_on,
        "document_ref": event.document_ref,
        "court": event.court,
        "court_case_no": event.court_case_no,
        "share": str(counterparty.share) if counterparty.share is not None else "",
    }


def _terms(agreement: Agreement, *, grace_days: int) -> list[str | Promise]:
    terms: list[str | Promise] = [
        _(
            "The total to replenish is the social insurance premiums unpaid on the day of "
            "signing and the late fee computed by law to that day; the late fee is fixed and "
            "booked at signing."
        ),
        _(
            "Party B pays monthly by the schedule below, quoting the agreement number with each "
            "payment; a payment counts on the day the money arrives."
        ),
        _("While this agreement is in force, no late fee accrues on the unpaid principal."),
        _(
            "An installment still not paid in full %(days)s days after its due date is a breach "
            "and ends this agreement; from the day after that due date %(rate)s is charged by law "
            "on the principal then unpaid, and party A may take the measures of collection the "
            "law provides."
        )
        % {"days": grace_days, "rate": _rate_text()},
    ]
    if agreement.kind == AgreementKind.LIQUIDATION:
        terms.insert(
            2,
            _(
                "Under Art. 46 of the Enterprise Bankruptcy Law the late fee is computed to the "
                "day before the court accepted the bankruptcy application; the liquidation group "
                "enters the amounts of this agreement in the claims and pays them in the order "
                "the law sets."
            ),
        )
    if agreement.kind in (AgreementKind.MERGER, AgreementKind.SPLIT, AgreementKind.AUCTION):
        terms.insert(
            0,
            _(
                "Party B, as the successor to the premiums the original insured unit owes, "
                "takes on the arrears listed in this agreement."
            ),
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
        "title": str(
            _("Liquidation agreement")
            if agreement.kind == AgreementKind.LIQUIDATION
            else _("Social insurance premium replenishment agreement")
        ),
        "number": agreement.number,
        "state": agreement.state,
        "state_label": agreement.get_state_display(),
        "is_draft": agreement.state == AgreementState.DRAFT,
        "kind": agreement.kind,
        "kind_label": str(KIND_LABELS[agreement.kind]),
        "agency": _agency(),
        "payee": _payee(),
        "counterparty": {
            "role": str(ROLE_LABELS[counterparty.kind]),
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
        "legal_basis": [str(b) for b in LEGAL_BASIS]
        + (
            [str(b) for b in BANKRUPTCY_BASIS]
            if agreement.kind == AgreementKind.LIQUIDATION
            else []
        ),
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
        _("First rank: the employees' claims"),
        _(
            "basic medical insurance premiums unpaid that go to the employees' personal accounts "
            "(employee portion)"
        ),
        _("Enterprise Bankruptcy Law, Art. 113 para. 1 item (1)"),
    ),
    (
        "employer",
        _("Second rank: social insurance premiums"),
        _("the other basic medical insurance premiums unpaid (employer portion, pooled fund)"),
        _("Enterprise Bankruptcy Law, Art. 113 para. 1 item (2)"),
    ),
    (
        "late_fee",
        _("Ordinary bankruptcy claim"),
        _("the late fee accrued before the bankruptcy application was accepted"),
        _("Enterprise Bankruptcy Law, Art. 113 para. 1 item (3), Art. 46"),
    ),
)


def _inherited_debts(amounts_by_unit: dict[int, dict[str, Decimal]]) -> list[dict]:
    """The debts a bankrupt successor took over, by the unit they began with and how they came
    to it (that unit's merger or split), in the claim's tiers."""
    units = {
        unit.pk: unit
        for unit in Unit.objects.filter(pk__in=list(amounts_by_unit)).select_related("event")
    }
    rows = []
    for unit_id, amounts in sorted(amounts_by_unit.items(), key=lambda item: units[item[0]].uscc):
        unit = units[unit_id]
        event = getattr(unit, "event", None)
        rows.append(
            {
                "name": unit.name,
                "uscc": unit.uscc,
                "how": str(event.get_kind_display()) if event is not None else "",
                "on": event.occurred_on if event is not None else None,
                **amounts,
                "total": sum(amounts.values(), ZERO),
            }
        )
    return rows


def claim_statement_context(event: UnitEvent, *, today: date | None = None) -> dict:
    """The claim statement (债权申报) the agency files with the liquidation group: the unit's
    unpaid debt in its open cases, in three priority tiers, the late fee to the day before
    the court's acceptance. The cases are those the group owes: the unit's own and those the
    unit took over as a merging or separated party; `inherited` lists the latter by the unit
    they began with, in the same tiers."""
    if event.kind != UnitEventKind.BANKRUPTCY:
        raise ValueError(f"event {event.pk} is a {event.kind}, not a bankruptcy")
    today = today or timezone.localdate()
    fee_through = event.occurred_on - timedelta(days=1)
    policy = late_fee_policy()
    cases = list(
        ArrearsCase.objects.filter(obligor__event=event, state__in=OPEN_STATES)
        .order_by("case_no")
        .values_list("pk", "case_no")
    )
    lines = (
        ArrearsLine.objects.filter(case_id__in=[pk for pk, _no in cases])
        .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
        .values_list("unit_id", "period", "person__name", "person__id_number", *LINE_FEE_FIELDS)
        .order_by("person__id_number", "period")
    )
    inherited: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"employee": ZERO, "employer": ZERO, "late_fee": ZERO}
    )
    by_person: dict[str, dict] = {}
    by_period: dict[str, dict] = defaultdict(
        lambda: {"employee": ZERO, "employer": ZERO, "late_fee": ZERO}
    )
    totals = {"employee": ZERO, "employer": ZERO, "late_fee": ZERO}
    for unit_id, period, name, id_number, *columns in lines.iterator(chunk_size=5000):
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
            if unit_id != event.unit_id:
                inherited[unit_id][key] += value
    group = event.parties.get()
    total = sum(totals.values(), ZERO)
    return {
        "title": str(_("Social insurance premium claim statement")),
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
                "label": str(label),
                "what": str(what),
                "basis": str(basis),
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
        "inherited": _inherited_debts(inherited),
        "legal_basis": [str(b) for b in (*BANKRUPTCY_BASIS, LEGAL_BASIS[0])],
    }
