from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.money import Installment, from_fen, installment_schedule

D = Decimal


def test_1000_in_3() -> None:
    schedule = installment_schedule(D("1000.00"), signed_on=date(2026, 5, 10), count=3)
    assert schedule == [
        Installment(1, date(2026, 6, 10), D("333.33")),
        Installment(2, date(2026, 7, 10), D("333.33")),
        Installment(3, date(2026, 8, 10), D("333.34")),
    ]


def test_remainder_of_several_fen_goes_on_the_last() -> None:
    schedule = installment_schedule(D("100.00"), signed_on=date(2026, 1, 1), count=12)
    assert [i.amount for i in schedule] == [D("8.33")] * 11 + [D("8.37")]


def test_single_installment_is_the_total() -> None:
    assert installment_schedule(D("0.01"), signed_on=date(2026, 1, 1), count=1) == [
        Installment(1, date(2026, 2, 1), D("0.01"))
    ]


def test_end_of_month_signing_keeps_the_day_where_the_month_allows() -> None:
    # given a signing on 31 January, then each due date is counted from the signing date
    due = [i.due_on for i in installment_schedule(D("60.00"), signed_on=date(2026, 1, 31), count=6)]
    assert due == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]
    leap = installment_schedule(D("2.00"), signed_on=date(2028, 1, 31), count=2)
    assert [i.due_on for i in leap] == [date(2028, 2, 29), date(2028, 3, 31)]


@pytest.mark.parametrize(
    ("total", "count", "max_count", "error", "message"),
    [
        (D("0.00"), 3, 12, ValueError, "greater than 0"),
        (D("-5.00"), 3, 12, ValueError, "negative"),
        (D("10.001"), 3, 12, ValueError, "2 decimal places"),
        (10.0, 3, 12, TypeError, "Decimal"),
        (D("10.00"), 0, 12, ValueError, "at least 1"),
        (D("10.00"), 13, 12, ValueError, "at most 12"),
        (D("10.00"), 7, 6, ValueError, "at most 6"),
        (D("0.05"), 6, 12, ValueError, "too small"),
    ],
)
def test_invalid_schedules_are_rejected(
    total: Decimal, count: int, max_count: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        installment_schedule(total, signed_on=date(2026, 1, 1), count=count, max_count=max_count)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Decimal, date, int, list[Installment]]:
    count = draw(st.integers(1, 24))
    total = from_fen(draw(st.integers(min_value=count, max_value=10**10)))
    signed_on = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
    schedule = installment_schedule(total, signed_on=signed_on, count=count, max_count=24)
    return total, signed_on, count, schedule


@settings(max_examples=200, deadline=None)
@given(case=schedules())
def test_installments_sum_exactly_to_the_total(case: tuple) -> None:
    total, _, count, schedule = case
    assert len(schedule) == count
    assert sum((i.amount for i in schedule), D(0)) == total


@settings(max_examples=200, deadline=None)
@given(case=schedules())
def test_all_but_the_last_are_equal_and_the_last_carries_under_count_fen_more(case: tuple) -> None:
    _, _, count, schedule = case
    *equal, last = [i.amount for i in schedule]
    assert len(set(equal)) <= 1
    for amount in equal:
        assert amount > 0
        assert D(0) <= last - amount < count * D("0.01")


@settings(max_examples=200, deadline=None)
@given(case=schedules())
def test_due_dates_are_monthly_from_signing_and_strictly_increasing(case: tuple) -> None:
    _, signed_on, _, schedule = case
    assert [i.seq for i in schedule] == list(range(1, len(schedule) + 1))
    assert all(i.due_on == signed_on + relativedelta(months=i.seq) for i in schedule)
    days = [signed_on] + [i.due_on for i in schedule]
    assert all(a < b for a, b in itertools.pairwise(days))
