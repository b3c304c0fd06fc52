"""The dashboard's figures, each one set-based query: what is owed by case state, the aging of
unpaid principal, and the money that arrived and was written off by month."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from backoffice.admin.case_list import OVERDUE_BUCKETS
from replenish.models import ArrearsCase, Arrival, ArrivalState, CaseState
from replenish.models.ledger import LedgerEntry, LedgerKind
from replenish.owed_today import aging_by_oldest_month, owed_by_case_state

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _sum(expression) -> Coalesce:
    return Coalesce(Sum(expression), Value(ZERO), output_field=MONEY)


def owed_by_state(today: date | None = None) -> list[dict]:
    """Per state: cases, principal unpaid, fixed late fee unpaid and what the cases owe today
    (principal + fee accrued to today, by the money rules)."""
    rows = {
        r["state"]: r
        for r in ArrearsCase.objects.order_by()
        .values("state")
        .annotate(cases=Count("pk"), principal=_sum("principal_unpaid"), fee=_sum("fee_unpaid"))
    }
    owed = owed_by_case_state(today) if today is not None else {}
    return [
        {
            "state": state,
            "label": state.label,
            "cases": rows.get(state.value, {}).get("cases", 0),
            "principal": _money(rows.get(state.value, {}).get("principal")),
            "fee": _money(rows.get(state.value, {}).get("fee")),
            "owed": owed.get(state.value, ZERO),
        }
        for state in CaseState
    ]


def owed_today_by_state(today: date) -> dict[str, Decimal]:
    return owed_by_case_state(today)


def aging(today: date) -> list[dict]:
    """Cases by how long ago their oldest unpaid month fell due: the buckets of the case list's
    filter, each case counted once, as the filter lists it (with its principal unpaid and what
    it owes today)."""
    found = aging_by_oldest_month(today, OVERDUE_BUCKETS)
    return [
        {"key": key, "label": label, **found[key], "amount": found[key]["principal"]}
        for key, label, _low, _high in OVERDUE_BUCKETS
    ]


def _case_when(condition: Q, expression):
    from django.db.models import Case, When

    return Case(When(condition, then=expression), default=Value(ZERO), output_field=MONEY)


def by_month(today: date, months: int = 12) -> list[dict]:
    """Money arrived (arrivals not reversed, by the day they arrived) and written off (ledger, by
    effective day) per month, the last `months` months, oldest first."""
    first = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    arrived = {
        r["month"]: r["amount"]
        for r in Arrival.objects.filter(arrived_on__gte=first)
        .exclude(state=ArrivalState.REVERSED)
        .annotate(month=TruncMonth("arrived_on"))
        .order_by()
        .values("month")
        .annotate(amount=_sum("amount"))
    }
    written_off = {
        r["month"]: -r["amount"]
        for r in LedgerEntry.objects.filter(kind=LedgerKind.WRITTEN_OFF, effective_on__gte=first)
        .annotate(month=TruncMonth("effective_on"))
        .order_by()
        .values("month")
        .annotate(amount=_sum(F("employer") + F("employee") + F("late_fee")))
    }
    rows = []
    month = first
    while month <= today:
        rows.append(
            {
                "month": month,
                "arrived": _month_value(arrived, month),
                "written_off": _month_value(written_off, month),
            }
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return rows


def _month_value(found: dict, month: date) -> Decimal:
    for key, value in found.items():
        if key is not None and (key.year, key.month) == (month.year, month.month):
            return _money(value)
    return ZERO


def with_bars(rows: list[dict], *fields: str) -> list[dict]:
    """Adds `<field>_pct`, the width of the field's bar against the largest value shown."""
    largest = max((row[f] for row in rows for f in fields), default=ZERO) or Decimal(1)
    for row in rows:
        for f in fields:
            row[f"{f}_pct"] = int(row[f] * 100 / largest) if row[f] > 0 else 0
    return rows
