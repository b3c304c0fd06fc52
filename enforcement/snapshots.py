"""The facts each enforcement document states, fixed when it is issued (plain strings, stored as
JSON on the document): a document is a legal text and never changes afterwards. The wording is
enforcement.documents'; the figures come from the ledger here."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from notices.models import Notice
from replenish.models import ArrearsCase, LedgerEntry, LedgerKind
from replenish.selectors import case_owed, debt_by_period

PAYMENT_KINDS = (LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED)


def _s(value) -> str:
    return "" if value is None else str(value)


def _notice(notice: Notice) -> dict:
    return {
        "number": notice.number,
        "issued_on": _s(notice.issued_on),
        "total": _s(notice.total),
        "principal": _s(notice.principal),
        "late_fee": _s(notice.late_fee),
        "delivered_on": _s(notice.delivered_on),
        "delivery_channel": notice.delivery_channel,
        "delivery_proof": notice.delivery_proof.name.rsplit("/", 1)[-1]
        if notice.delivery_proof
        else "",
        "deadline": _s(notice.deadline),
    }


def common(dossier, case: ArrearsCase, *, number: str, issued_on: date) -> dict:
    unit = case.unit
    return {
        "number": number,
        "issued_on": issued_on.isoformat(),
        "dossier_no": dossier.dossier_no,
        "case_no": case.case_no,
        "unit": {"name": unit.name, "uscc": unit.uscc},
        "notice": _notice(dossier.notice),
        "agency": {
            "name": settings.AGENCY_NAME,
            "contact": settings.AGENCY_CONTACT,
            "address": settings.AGENCY_ADDRESS,
        },
    }


def _owed(case: ArrearsCase, on: date) -> dict:
    owed = case_owed(case.pk, as_of=on)
    return {
        "as_of": on.isoformat(),
        "principal": str(owed.principal),
        "late_fee": str(owed.late_fee),
        "total": str(owed.total),
        "by_period": debt_by_period([case.pk], as_of=on),
    }


def demand(case: ArrearsCase, *, on: date) -> dict:
    return {"owed": _owed(case, on), "working_days": 10}


def inquiry(case: ArrearsCase, *, bank: str, reply_by: date) -> dict:
    return {"bank": bank, "reply_by": reply_by.isoformat()}


def _accounts(dossier) -> list[dict]:
    return [
        {
            "bank": a.bank,
            "account_no": a.account_no,
            "balance": str(a.balance),
            "balance_on": a.balance_on.isoformat(),
        }
        for a in dossier.accounts.order_by("pk")
    ]


def _demand_document(dossier) -> dict:
    demand = dossier.documents.filter(kind="demand").order_by("pk").first()
    if demand is None:
        return {}
    return {
        "number": demand.number,
        "issued_on": demand.issued_on.isoformat(),
        "delivered_on": _s(demand.delivered_on),
        "delivery_channel": demand.delivery_channel,
        "delivery_proof": demand.delivery_proof.name.rsplit("/", 1)[-1]
        if demand.delivery_proof
        else "",
        "deadline": _s(dossier.demand_deadline),
    }


def transfer_request(dossier, case: ArrearsCase, *, on: date) -> dict:
    return {
        "department": dossier.decision_department,
        "amount": str(dossier.transfer_amount),
        "owed": _owed(case, on),
        "accounts": _accounts(dossier),
        "demand": _demand_document(dossier),
    }


def transfer_notice(dossier, account, *, amount: Decimal, as_of: date, daily: Decimal) -> dict:
    return {
        "bank": account.bank,
        "account_no": account.account_no,
        "amount": str(amount),
        "as_of": as_of.isoformat(),
        "daily_late_fee": str(daily),
        "decision_no": dossier.transfer_decision_no,
        "decided_on": _s(dossier.transfer_decided_on),
        "department": dossier.decision_department,
    }


def guarantee(case: ArrearsCase, *, on: date, owed: Decimal, found: Decimal) -> dict:
    return {
        "owed": _owed(case, on),
        "found": str(found),
        "working_days": settings.ENFORCEMENT_GUARANTEE_WORKING_DAYS,
    }


def payments_since(case: ArrearsCase, since: date) -> list[dict]:
    """The money applied to the case since `since`, by day, net of reversals (the ledger)."""
    rows = (
        LedgerEntry.objects.filter(case=case, kind__in=PAYMENT_KINDS, effective_on__gte=since)
        .values("effective_on")
        .annotate(employer=Sum("employer"), employee=Sum("employee"), late_fee=Sum("late_fee"))
        .order_by("effective_on")
    )
    return [
        {
            "on": r["effective_on"].isoformat(),
            "principal": str(-(r["employer"] + r["employee"])),
            "late_fee": str(-r["late_fee"]),
            "total": str(-(r["employer"] + r["employee"] + r["late_fee"])),
        }
        for r in rows
    ]


def court_application(dossier, case: ArrearsCase, *, on: date) -> dict:
    return {
        "court": dossier.court,
        "owed": _owed(case, on),
        "payments_since": payments_since(case, dossier.notice.issued_on),
        "demand": _demand_document(dossier),
        "accounts": _accounts(dossier),
        "window_opens": _s(dossier.court_window_opens),
        "window_closes": _s(dossier.court_window_closes),
    }


def fine_referral(case: ArrearsCase, *, on: date, owed: Decimal) -> dict:
    return {"owed": _owed(case, on), "fine_from": str(owed), "fine_to": str(owed * 3)}
