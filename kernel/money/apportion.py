"""Apportionment of a case among successors by shares (合并/分立).

Each amount (a cell of the case: a line's employer portion, employee portion, fixed fee, ...) is
split among the successors so that

(a) every row sums exactly to its amount,
(b) every cell is its exact proportional amount (amount x share) rounded down or up to the fen,
(c) every successor's total is within 0.01 of its exact share of the sum of all amounts.

This is controlled rounding of a two-dimensional table, which always exists (Cox 1987): the exact
fractional parts form a feasible fractional flow in the network

    source -(row's round-ups, exactly)-> row -(0 or 1)-> cell -> column -(floor..ceil)-> sink,

so an integral one exists too. It is found in integer fen by a greedy first guess that keeps each
column's running rounding error small, followed by augmenting paths between columns (a row that
rounds up in column a rounds up in column b instead) until every column count is within its
bounds. Everything is integer arithmetic with fixed tie-breaks, so the result is deterministic.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from kernel.money.late_fee import from_fen, to_fen

Share = Fraction | Decimal | int


def validate_shares(shares: Sequence[Share]) -> tuple[Fraction, ...]:
    """The shares as exact Fractions; ValueError unless there is at least one, each is > 0 and
    they sum to exactly 1. Floats are rejected (TypeError): they are not exact."""
    converted: list[Fraction] = []
    for index, share in enumerate(shares):
        if isinstance(share, bool) or not isinstance(share, Fraction | Decimal | int):
            raise TypeError(
                f"share {index} must be a Fraction, Decimal or int, got {type(share).__name__}"
            )
        if isinstance(share, Decimal) and not share.is_finite():
            raise ValueError(f"share {index} must be finite, got {share}")
        value = Fraction(share)
        if value <= 0:
            raise ValueError(f"share {index} must be greater than 0, got {value}")
        converted.append(value)
    if not converted:
        raise ValueError("at least one share is needed")
    total = sum(converted, Fraction(0))
    if total != 1:
        raise ValueError(f"shares must sum to exactly 1, they sum to {total}")
    return tuple(converted)


def apportion(amounts: Sequence[Decimal], shares: Sequence[Share]) -> list[list[Decimal]]:
    """One row per amount, one column per share; see the module docstring for the guarantees."""
    fractions = validate_shares(shares)
    cents = [to_fen(amount, name=f"amount {index}") for index, amount in enumerate(amounts)]
    denominator = math.lcm(*(share.denominator for share in fractions))
    weights = [share.numerator * (denominator // share.denominator) for share in fractions]
    columns = range(len(weights))

    # Exact cell = floor + remainder / denominator, all in integer fen.
    floors: list[list[int]] = []
    remainders: list[list[int]] = []
    for amount in cents:
        row_floor, row_rem = [], []
        for weight in weights:
            quotient, remainder = divmod(amount * weight, denominator)
            row_floor.append(quotient)
            row_rem.append(remainder)
        floors.append(row_floor)
        remainders.append(row_rem)

    # Column bounds on the number of round-ups: floor/ceil of the column's exact fractional sum.
    column_rem = [sum(row[j] for row in remainders) for j in columns]
    lower = [total // denominator for total in column_rem]
    upper = [lo + (total % denominator != 0) for lo, total in zip(lower, column_rem, strict=True)]

    rounded_up = _first_guess(remainders, denominator, len(weights))
    _repair(rounded_up, remainders, lower, upper)

    return [
        [from_fen(row_floor[j] + row_up[j]) for j in columns]
        for row_floor, row_up in zip(floors, rounded_up, strict=True)
    ]


def _first_guess(remainders: list[list[int]], denominator: int, width: int) -> list[list[bool]]:
    """Each row rounds up exactly as many cells as its amount requires, preferring the columns
    whose running rounding error (exact minus rounded so far) is largest."""
    deficit = [0] * width  # in units of 1 / denominator
    rounded_up: list[list[bool]] = []
    for row_rem in remainders:
        needed = sum(row_rem) // denominator  # the row's exact fractional parts sum to an integer
        candidates = [j for j in range(width) if row_rem[j] > 0]
        candidates.sort(key=lambda j: (-(deficit[j] + row_rem[j]), j))
        chosen = set(candidates[:needed])
        row_up = [j in chosen for j in range(width)]
        for j in range(width):
            deficit[j] += row_rem[j] - denominator * row_up[j]
        rounded_up.append(row_up)
    return rounded_up


# C901: one augmenting-path search; its closures (edge, path, move) share the round-up table
# and the counts, and apart they would pass five arrays between them. McCabe counts the closures'
# branches as this function's.
def _repair(  # noqa: C901
    rounded_up: list[list[bool]], remainders: list[list[int]], lower: list[int], upper: list[int]
) -> None:
    """Move round-ups between columns along augmenting paths until every column's count of
    round-ups is within [lower, upper]. Each path removes one unit of violation and keeps every
    other column within its bounds; a path always exists while a column is out of bounds because
    a feasible assignment exists (the set of columns reachable from an over-full column would
    otherwise already hold the fewest round-ups any assignment can give it)."""
    width = len(lower)
    count = [sum(row[j] for row in rounded_up) for j in range(width)]
    # movable[a][b]: rows that could round up in b instead of a (validated lazily on use).
    movable: list[list[list[int]]] = [[[] for _ in range(width)] for _ in range(width)]
    for i, row_up in enumerate(rounded_up):
        _register(i, row_up, remainders[i], movable)

    def edge(a: int, b: int) -> int | None:
        stack = movable[a][b]
        while stack:
            i = stack[-1]
            if rounded_up[i][a] and not rounded_up[i][b]:
                return i
            stack.pop()
        return None

    def path(start: int, targets: set[int], *, forward: bool) -> list[int]:
        previous: dict[int, int] = {start: start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node in targets and node != start:
                hops = [node]
                while hops[-1] != start:
                    hops.append(previous[hops[-1]])
                return hops[::-1]
            for other in range(width):
                if other in previous:
                    continue
                row = edge(node, other) if forward else edge(other, node)
                if row is not None:
                    previous[other] = node
                    queue.append(other)
        raise AssertionError("controlled rounding: no augmenting path (cannot happen)")

    def move(a: int, b: int) -> None:
        i = edge(a, b)
        if i is None:
            raise AssertionError("controlled rounding: stale augmenting path (cannot happen)")
        rounded_up[i][a], rounded_up[i][b] = False, True
        count[a] -= 1
        count[b] += 1
        _register(i, rounded_up[i], remainders[i], movable, only=(a, b))

    while True:
        over = next((j for j in range(width) if count[j] > upper[j]), None)
        if over is not None:
            hops = path(over, {j for j in range(width) if count[j] < upper[j]}, forward=True)
        else:
            under = next((j for j in range(width) if count[j] < lower[j]), None)
            if under is None:
                return
            sources = {j for j in range(width) if count[j] > lower[j]}
            hops = path(under, sources, forward=False)[::-1]
        for a, b in itertools.pairwise(hops):
            move(a, b)


def _register(
    i: int,
    row_up: list[bool],
    row_rem: list[int],
    movable: list[list[list[int]]],
    only: tuple[int, int] | None = None,
) -> None:
    """Record row i under every column pair (a, b) it could move a round-up along; with ``only``,
    just the pairs that involve those columns (after a move between them)."""
    width = len(row_up)
    for a in range(width):
        if not row_up[a]:
            continue
        for b in range(width):
            if row_up[b] or row_rem[b] == 0:
                continue
            if only is None or a in only or b in only:
                movable[a][b].append(i)
