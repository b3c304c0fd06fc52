from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.money import apportion, from_fen, validate_shares
from kernel.money.apportion import _repair

D = Decimal
FEN = D("0.01")
THIRD = Fraction(1, 3)


def assert_controlled_rounding(
    amounts: Sequence[Decimal], shares: Sequence[Fraction], result: list[list[Decimal]]
) -> None:
    """(a) rows sum exactly, (b) each cell is its exact share rounded down or up to the fen,
    (c) each column is within 0.01 of its exact share of the grand total."""
    assert len(result) == len(amounts)
    for amount, row in zip(amounts, result, strict=True):
        assert len(row) == len(shares)
        assert sum(row, D(0)) == amount  # (a)
        for cell, share in zip(row, shares, strict=True):
            exact = Fraction(amount) * share
            assert cell == cell.quantize(FEN)
            assert abs(Fraction(cell) - exact) < Fraction(1, 100)  # (b): floor or ceil
    grand_total = sum((Fraction(a) for a in amounts), Fraction(0))
    for j, share in enumerate(shares):
        column = sum((Fraction(row[j]) for row in result), Fraction(0))
        assert abs(column - grand_total * share) < Fraction(1, 100)  # (c)


# --- worked examples -------------------------------------------------------------------------


def test_three_way_split_of_100_plus_two_fen() -> None:
    # given 100.00 + 0.01 + 0.01 split equally among three successors
    amounts = [D("100.00"), D("0.01"), D("0.01")]
    # when apportioned
    result = apportion(amounts, [THIRD, THIRD, THIRD])
    # then every successor's total is exactly a third of 100.02
    assert [sum((row[j] for row in result), D(0)) for j in range(3)] == [D("33.34")] * 3
    # and the single fen of each row lands on a different successor
    assert sorted(result[0]) == [D("33.33"), D("33.33"), D("33.34")]
    assert sorted(result[1]) == sorted(result[2]) == [D("0.00"), D("0.00"), D("0.01")]
    assert_controlled_rounding(amounts, [THIRD] * 3, result)


def test_exact_shares_are_not_rounded() -> None:
    result = apportion([D("10.00"), D("0.00"), D("7.50")], [Fraction(3, 5), D("0.4")])
    assert result == [[D("6.00"), D("4.00")], [D("0.00"), D("0.00")], [D("4.50"), D("3.00")]]


def test_single_successor_takes_everything() -> None:
    assert apportion([D("1.23"), D("4")], [1]) == [[D("1.23")], [D("4.00")]]


def test_no_amounts_gives_no_rows() -> None:
    assert apportion([], [THIRD, Fraction(2, 3)]) == []


def test_many_small_amounts_do_not_all_round_the_same_way() -> None:
    # given 300 amounts of 0.01 split 2/5 : 3/5 (each row alone would favour the larger share)
    amounts = [D("0.01")] * 300
    result = apportion(amounts, [Fraction(2, 5), Fraction(3, 5)])
    # then the columns still get 1.20 and 1.80
    assert [sum((row[j] for row in result), D(0)) for j in range(2)] == [D("1.20"), D("1.80")]


def test_same_input_same_output() -> None:
    rng = random.Random(7)
    amounts = [from_fen(rng.randint(0, 10**6)) for _ in range(200)]
    shares = [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]
    assert apportion(amounts, shares) == apportion(list(amounts), tuple(shares))


def test_a_case_of_2000_amounts_and_10_successors_is_fast() -> None:
    # given 2,000 amounts and 10 successors with awkward shares
    rng = random.Random(2026)
    amounts = [from_fen(rng.randint(0, 10**7)) for _ in range(2000)]
    weights = [rng.randint(1, 997) for _ in range(10)]
    shares = [Fraction(w, sum(weights)) for w in weights]
    # when apportioned
    started = time.perf_counter()
    result = apportion(amounts, shares)
    elapsed = time.perf_counter() - started
    # then the result is controlled and it took well under a second
    assert_controlled_rounding(amounts, shares, result)
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("shares", "error", "message"),
    [
        ([], ValueError, "at least one"),
        ([Fraction(1, 2)], ValueError, "sum to exactly 1"),
        ([Fraction(1, 2), Fraction(1, 3), Fraction(1, 3)], ValueError, "sum to exactly 1"),
        ([Fraction(3, 2), Fraction(-1, 2)], ValueError, "share 1 must be greater than 0"),
        ([Fraction(1), Fraction(0)], ValueError, "share 1 must be greater than 0"),
        ([0.5, 0.5], TypeError, "share 0 must be a Fraction, Decimal or int"),
        ([D("NaN")], ValueError, "finite"),
        (["1"], TypeError, "Fraction, Decimal or int"),
    ],
)
def test_bad_shares_are_rejected(shares: list, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        apportion([D("1.00")], shares)


def test_shares_are_converted_exactly() -> None:
    assert validate_shares([D("0.25"), Fraction(1, 4), D("0.5")]) == (
        Fraction(1, 4),
        Fraction(1, 4),
        Fraction(1, 2),
    )


@pytest.mark.parametrize(
    ("amounts", "message"),
    [([D("-0.01")], "amount 0 must not be negative"), ([D("0"), D("0.001")], "amount 1")],
)
def test_bad_amounts_are_rejected(amounts: list[Decimal], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apportion(amounts, [Fraction(1, 2), Fraction(1, 2)])


# --- properties -------------------------------------------------------------------------------


@st.composite
def share_lists(draw: st.DrawFn) -> list[Fraction]:
    weights = draw(
        st.lists(
            st.integers(1, 10_000) | st.integers(1, 5),
            min_size=2,
            max_size=6,
        )
    )
    return [Fraction(w, sum(weights)) for w in weights]


amount_lists = st.lists(
    (st.integers(0, 10**7) | st.integers(0, 50)).map(from_fen), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(amounts=amount_lists, shares=share_lists())
def test_apportionment_is_a_controlled_rounding(
    amounts: list[Decimal], shares: list[Fraction]
) -> None:
    assert_controlled_rounding(amounts, shares, apportion(amounts, shares))


@settings(max_examples=200, deadline=None)
@given(amounts=amount_lists, shares=share_lists(), seed=st.integers(0, 2**32))
def test_repair_fixes_column_counts_from_any_start_that_is_right_by_rows(
    amounts: list[Decimal], shares: list[Fraction], seed: int
) -> None:
    # given the round-ups of each row chosen at random (right number per row, ignoring columns);
    # the greedy first guess rarely needs repairing, so the repair step is exercised directly
    denominator = math.lcm(*(share.denominator for share in shares))
    weights = [s.numerator * (denominator // s.denominator) for s in shares]
    remainders = [[int(a * 100) * w % denominator for w in weights] for a in amounts]
    rng = random.Random(seed)
    rounded_up = []
    for row in remainders:
        candidates = [j for j, r in enumerate(row) if r > 0]
        chosen = set(rng.sample(candidates, sum(row) // denominator))
        rounded_up.append([j in chosen for j in range(len(shares))])
    column_rem = [sum(row[j] for row in remainders) for j in range(len(shares))]
    lower = [total // denominator for total in column_rem]
    upper = [lo + (total % denominator != 0) for lo, total in zip(lower, column_rem, strict=True)]
    # when repaired
    _repair(rounded_up, remainders, lower, upper)
    # then every row still rounds up the same number of cells, only where the cell is fractional,
    # and every column's count of round-ups is within its bounds
    for row_up, row_rem in zip(rounded_up, remainders, strict=True):
        assert sum(row_up) == sum(row_rem) // denominator
        assert all(r > 0 for up, r in zip(row_up, row_rem, strict=True) if up)
    for j in range(len(shares)):
        assert lower[j] <= sum(row[j] for row in rounded_up) <= upper[j]
