"""Allocation of an arrived payment to the unpaid lines of an employer.

Rule: lines in order of due date, oldest first (ties by line_id ascending); within a line its late
fee first, then the employee (personal-account) portion, then the employer (pooled) portion.
Money beyond the whole debt is kept as an overpayment credit, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kernel.money.late_fee import from_fen, to_fen


@dataclass(frozen=True)
class LineDue:
    """What is still owed on one line."""

    line_id: int
    due_date: date
    late_fee: Decimal
    employee: Decimal
    employer: Decimal


@dataclass(frozen=True)
class LineAllocation:
    """What a payment pays on one line."""

    line_id: int
    late_fee: Decimal
    employee: Decimal
    employer: Decimal

    @property
    def total(self) -> Decimal:
        return self.late_fee + self.employee + self.employer


@dataclass(frozen=True)
class Allocation:
    """The lines a payment pays (in allocation order) and the overpayment credit left over."""

    lines: tuple[LineAllocation, ...]
    credit: Decimal

    @property
    def applied(self) -> Decimal:
        return sum((line.total for line in self.lines), from_fen(0))


def allocate_payment(amount: Decimal, dues: Sequence[LineDue]) -> Allocation:
    """Allocate ``amount`` to ``dues`` by the rule above; lines that receive nothing are omitted."""
    remaining = to_fen(amount, name="payment amount")
    if remaining == 0:
        raise ValueError("payment amount must be greater than 0")
    seen: set[int] = set()
    for due in dues:
        if due.line_id in seen:
            raise ValueError(f"line {due.line_id} appears more than once in the dues")
        seen.add(due.line_id)
    checked = [
        (
            due,
            (
                to_fen(due.late_fee, name=f"late fee of line {due.line_id}"),
                to_fen(due.employee, name=f"employee portion of line {due.line_id}"),
                to_fen(due.employer, name=f"employer portion of line {due.line_id}"),
            ),
        )
        for due in dues
    ]
    checked.sort(key=lambda item: (item[0].due_date, item[0].line_id))

    lines: list[LineAllocation] = []
    for due, owed in checked:
        if remaining == 0:
            break
        paid: list[int] = []
        for part in owed:
            take = min(part, remaining)
            paid.append(take)
            remaining -= take
        if any(paid):
            fee, employee, employer = (from_fen(fen) for fen in paid)
            lines.append(
                LineAllocation(
                    line_id=due.line_id, late_fee=fee, employee=employee, employer=employer
                )
            )
    return Allocation(lines=tuple(lines), credit=from_fen(remaining))
