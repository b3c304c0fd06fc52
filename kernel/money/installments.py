"""Installment schedules (分期缴纳) for an agreed total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from kernel.money.late_fee import from_fen, to_fen


@dataclass(frozen=True)
class Installment:
    seq: int
    due_on: date
    amount: Decimal


def installment_schedule(
    total: Decimal, *, signed_on: date, count: int, max_count: int = 12
) -> list[Installment]:
    """Split ``total`` into ``count`` monthly installments.

    Each amount is total / count rounded down to the fen; the remainder goes on the last
    installment. Installment k is due on signed_on + k months (computed from the signing date, not
    chained, so a 31 January signing gives 28/29 February, 31 March, 30 April, ...).
    """
    total_fen = to_fen(total, name="installment total")
    if total_fen == 0:
        raise ValueError("installment total must be greater than 0")
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int, got {type(count).__name__}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if count > max_count:
        raise ValueError(f"count must be at most {max_count}, got {count}")
    equal_fen = total_fen // count
    if equal_fen == 0:
        raise ValueError(f"total {total} is too small for {count} installments: each would be 0.00")
    last_fen = total_fen - equal_fen * (count - 1)
    return [
        Installment(
            seq=k,
            due_on=signed_on + relativedelta(months=k),
            amount=from_fen(last_fen if k == count else equal_fen),
        )
        for k in range(1, count + 1)
    ]
