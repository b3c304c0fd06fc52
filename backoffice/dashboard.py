"""The dashboard's figures, each one set-based query: what is owed by case state, the aging of
unpaid principal, and the money that arrived and was written off by month."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from backoffice.admin.case_list import OVERDUE_BUCKETS
from replenish.models import ArrearsCase, ArrearsLine, Arrival, ArrivalState, CaseState
from replenish.models.ledger import LedgerEntry, LedgerKind

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _sum(expression) -> Coalesce:
    return Coalesce(Sum(expression), Value(ZERO), output_field=MONEY)


def owed_by_state() -> list[dict]:
    """Per state: cases, principal unpaid and fixed late fee unpaid (the accruing fee of today is
    derived per line and not summed here)."""
    rows = {
        r["state"]: r
        for r in ArrearsCase.objects.order_by()
        .values("state")
        .annotate(cases=Count("pk"), principal=_sum("principal_unpaid"), fee=_sum("fee_unpaid"))
    }
    return [
        {
            "state": state,
            "label": state.label,
            "cases": rows.get(state.value, {}).get("cases", 0),
            "principal": _money(rows.get(state.value, {}).get("principal")),
            "fee": _money(rows.get(state.value, {}).get("fee")),
        }
        for state in CaseState
    ]


def aging(today: date) -> list[dict]:
    """Unpaid principal by how long ago its month fell due (the buckets of the case list)."""
    unpaid = F("employer_unpaid") + F("employee_unpaid")
    sums = {}
    for key, _label, low, high in OVERDUE_BUCKETS:
        due = Q(due_date__lte=today - timedelta(days=low))
        if high is not None:
            due &= Q(due_date__gte=today - timedelta(days=high))
        sums[key.replace("-", "_").replace("+", "_up")] = _sum(_case_when(due, unpaid))
    found = ArrearsLine.objects.aggregate(**sums)
    return [
        {
            "key": key,
            "label": label,
            "amount": _money(found[key.replace("-", "_").replace("+", "_up")]),
        }
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
