from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.money import Allocation, LineAllocation, LineDue, allocate_payment, from_fen

D = Decimal

JAN = LineDue(7, date(2026, 1, 15), late_fee=D("10.00"), employee=D("100.00"), employer=D("200.00"))
FEB = LineDue(3, date(2026, 2, 15), late_fee=D("5.00"), employee=D("50.00"), employer=D("80.00"))


def paid(allocation: Allocation) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    return [(a.line_id, a.late_fee, a.employee, a.employer) for a in allocation.lines]


# --- worked examples -------------------------------------------------------------------------


def test_exact_payoff_of_one_line() -> None:
    allocation = allocate_payment(D("310.00"), [JAN])
    assert paid(allocation) == [(7, D("10.00"), D("100.00"), D("200.00"))]
    assert allocation.credit == D("0.00")
    assert allocation.applied == D("310.00")
    assert allocation.lines[0].total == D("310.00")


def test_partial_payment_within_the_fee() -> None:
    allocation = allocate_payment(D("4.00"), [FEB, JAN])
    assert paid(allocation) == [(7, D("4.00"), D("0.00"), D("0.00"))]
    assert allocation.credit == D("0.00")


def test_partial_payment_within_the_employee_portion() -> None:
    allocation = allocate_payment(D("50.00"), [JAN, FEB])
    assert paid(allocation) == [(7, D("10.00"), D("40.00"), D("0.00"))]


def test_oldest_line_first_then_the_next() -> None:
    # given two lines, when more than the January line arrives
    allocation = allocate_payment(D("320.01"), [FEB, JAN])
    # then January is paid in full and the rest starts on February's fee
    assert paid(allocation) == [
        (7, D("10.00"), D("100.00"), D("200.00")),
        (3, D("5.00"), D("5.01"), D("0.00")),
    ]


def test_overpayment_is_kept_as_credit() -> None:
    allocation = allocate_payment(D("500.00"), [JAN, FEB])
    assert allocation.applied == D("445.00")
    assert allocation.credit == D("55.00")


def test_payment_without_dues_is_all_credit() -> None:
    allocation = allocate_payment(D("12.34"), [])
    assert allocation == Allocation(lines=(), credit=D("12.34"))


def test_same_due_date_is_broken_by_line_id() -> None:
    # given three lines due the same day, listed out of id order
    dues = [
        LineDue(line_id, date(2026, 3, 15), D("1.00"), D("2.00"), D("3.00"))
        for line_id in (30, 10, 20)
    ]
    # when enough for one and a half lines arrives
    allocation = allocate_payment(D("9.00"), dues)
    # then the lowest id is paid first, the next partly, the last gets nothing and is omitted
    assert paid(allocation) == [
        (10, D("1.00"), D("2.00"), D("3.00")),
        (20, D("1.00"), D("2.00"), D("0.00")),
    ]


def test_lines_with_nothing_due_are_skipped() -> None:
    settled = LineDue(1, date(2025, 1, 1), D("0.00"), D("0.00"), D("0.00"))
    allocation = allocate_payment(D("1.00"), [settled, JAN])
    assert [a.line_id for a in allocation.lines] == [7]


def test_results_have_two_places() -> None:
    due = LineDue(1, date(2025, 1, 1), D("0"), D("1"), D("2.5"))
    allocation = allocate_payment(D("3"), [due])
    assert str(allocation.lines[0].employer) == "2.00"
    assert str(allocation.credit) == "0.00"


@pytest.mark.parametrize(
    ("amount", "dues", "error", "message"),
    [
        (D("0.00"), [JAN], ValueError, "greater than 0"),
        (D("-1.00"), [JAN], ValueError, "negative"),
        (D("1.001"), [JAN], ValueError, "2 decimal places"),
        (D("NaN"), [JAN], ValueError, "finite"),
        (1.0, [JAN], TypeError, "Decimal"),
        (D("1.00"), [JAN, JAN], ValueError, "more than once"),
        (
            D("1.00"),
            [LineDue(1, date(2026, 1, 1), D("-0.01"), D("0"), D("0"))],
            ValueError,
            "late fee of line 1 must not be negative",
        ),
        (
            D("1.00"),
            [LineDue(2, date(2026, 1, 1), D("0"), D("0.001"), D("0"))],
            ValueError,
            "employee portion of line 2 must have at most 2 decimal places",
        ),
        (
            D("1.00"),
            [LineDue(3, date(2026, 1, 1), D("0"), D("0"), D("-5"))],
            ValueError,
            "employer portion of line 3",
        ),
    ],
)
def test_invalid_input_is_rejected(
    amount: Decimal, dues: list[LineDue], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        allocate_payment(amount, dues)


# --- properties -------------------------------------------------------------------------------

fen = st.integers(min_value=0, max_value=10**8).map(from_fen)


@st.composite
def dues_lists(draw: st.DrawFn) -> list[LineDue]:
    ids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=8))
    day = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 3, 1))
    return [LineDue(i, draw(day), draw(fen), draw(fen), draw(fen)) for i in ids]


payments = st.integers(min_value=1, max_value=5 * 10**8).map(from_fen)


def parts_in_rule_order(
    dues: list[LineDue], allocation: Allocation
) -> list[tuple[Decimal, Decimal]]:
    """(due, paid) of every part of every line, in the order the rule fills them."""
    by_line = {a.line_id: a for a in allocation.lines}
    parts = []
    for due in sorted(dues, key=lambda d: (d.due_date, d.line_id)):
        got = by_line.get(due.line_id, LineAllocation(due.line_id, D(0), D(0), D(0)))
        parts += [
            (due.late_fee, got.late_fee),
            (due.employee, got.employee),
            (due.employer, got.employer),
        ]
    return parts


@settings(max_examples=200, deadline=None)
@given(amount=payments, dues=dues_lists())
def test_applied_plus_credit_is_the_payment(amount: Decimal, dues: list[LineDue]) -> None:
    allocation = allocate_payment(amount, dues)
    assert allocation.applied + allocation.credit == amount
    assert allocation.credit >= 0


@settings(max_examples=200, deadline=None)
@given(amount=payments, dues=dues_lists())
def test_nothing_exceeds_its_due_and_empty_lines_are_omitted(
    amount: Decimal, dues: list[LineDue]
) -> None:
    allocation = allocate_payment(amount, dues)
    assert all(0 <= got <= due for due, got in parts_in_rule_order(dues, allocation))
    assert all(line.total > 0 for line in allocation.lines)
    assert len({line.line_id for line in allocation.lines}) == len(allocation.lines)


@settings(max_examples=200, deadline=None)
@given(amount=payments, dues=dues_lists())
def test_no_part_is_paid_before_every_earlier_part_is_full(
    amount: Decimal, dues: list[LineDue]
) -> None:
    # covers both orders: earlier lines before later ones, and fee < employee < employer
    allocation = allocate_payment(amount, dues)
    parts = parts_in_rule_order(dues, allocation)
    for index, (_, got) in enumerate(parts):
        if got > 0:
            assert all(got_before == due_before for due_before, got_before in parts[:index])
    order = {d.line_id: (d.due_date, d.line_id) for d in dues}
    keys = [order[line.line_id] for line in allocation.lines]
    assert keys == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(amount=payments, dues=dues_lists())
def test_credit_only_when_everything_is_paid(amount: Decimal, dues: list[LineDue]) -> None:
    allocation = allocate_payment(amount, dues)
    everything_paid = all(got == due for due, got in parts_in_rule_order(dues, allocation))
    if allocation.credit > 0:
        assert everything_paid
    total_due = sum((d.late_fee + d.employee + d.employer for d in dues), D(0))
    assert allocation.credit == max(amount - total_due, D(0))
