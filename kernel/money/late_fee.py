"""Late fee (滞纳金) on unpaid social-insurance premiums.

The fee is simple interest on the unpaid principal of one assessment line, charged for every day
after the due date up to and including the as-of date, at the daily rate in force on the day being
charged. Amounts are exact (unrounded) until the fee of a line is fixed, which rounds half-up to
the fen.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Rounded,
    localcontext,
)

FEN = Decimal("0.01")
_ZERO = Decimal("0.00")
_DAY = timedelta(days=1)

# Wide enough for any realistic amount; traps make any silent rounding an error, so every
# "exact" figure in this package really is exact. The contexts are passed to each operation, not
# made current, and shared: an operation only reads them and raises their status flags, which
# nothing here reads (the traps raise whatever the flags), and CPython's decimal holds the GIL
# for the whole operation. Copying them for each operation was a tenth of issuing a notice.
_EXACT = Context(prec=120, traps=[Inexact, Rounded, InvalidOperation])
_WIDE = Context(prec=120, traps=[InvalidOperation])


def round_fen(amount: Decimal) -> Decimal:
    """Round half-up to the fen (0.01)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP, context=_WIDE)


def to_fen(amount: Decimal, *, name: str = "amount") -> int:
    """The exact number of fen in a non-negative Decimal amount with at most two decimal places.

    Raises TypeError for anything but a Decimal (floats are never money) and ValueError for a
    negative, non-finite or sub-fen amount.
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite amount, got {amount}")
    scaled = amount.scaleb(2, context=_EXACT)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{name} must have at most 2 decimal places, got {amount}")
    if scaled < 0:
        raise ValueError(f"{name} must not be negative, got {amount}")
    return int(scaled)


def from_fen(fen: int) -> Decimal:
    """An integer number of fen as a Decimal yuan amount with exactly two places."""
    return Decimal(fen).scaleb(-2, context=_EXACT)


# --- rate table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePeriod:
    """A daily rate in force from ``starts_on`` until the next period starts."""

    starts_on: date
    daily_rate: Decimal


DEFAULT_RATE_TABLE: tuple[RatePeriod, ...] = (
    # 《社会保险费征缴暂行条例》(1999) art. 13: 0.2% per day.
    RatePeriod(starts_on=date.min, daily_rate=Decimal("0.002")),
    # 《社会保险法》 art. 86, in force from 2011-07-01: 万分之五 (0.05%) per day.
    RatePeriod(starts_on=date(2011, 7, 1), daily_rate=Decimal("0.0005")),
)


def validate_rate_table(rate_table: Sequence[RatePeriod]) -> tuple[RatePeriod, ...]:
    """Check a rate table (non-empty, first period from date.min, strictly increasing start
    dates, finite non-negative Decimal rates) and return it as a tuple; ValueError otherwise."""
    table = tuple(rate_table)
    if not table:
        raise ValueError("rate table must have at least one period")
    if table[0].starts_on != date.min:
        raise ValueError(
            f"rate table must start on date.min so every day has a rate, "
            f"first period starts on {table[0].starts_on}"
        )
    for earlier, later in itertools.pairwise(table):
        if later.starts_on <= earlier.starts_on:
            raise ValueError(
                f"rate table must be sorted by strictly increasing start date: "
                f"{later.starts_on} follows {earlier.starts_on}"
            )
    for period in table:
        rate = period.daily_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
            raise ValueError(
                f"daily rate from {period.starts_on} must be a non-negative Decimal, got {rate!r}"
            )
    return table


@dataclass(frozen=True)
class LateFeePolicy:
    """How the fee is computed.

    ``cap_at_principal``: the fee of a line never exceeds its principal (《行政强制法》 art. 45:
    加处罚款或者滞纳金的数额不得超出金钱给付义务的数额).
    """

    rate_table: tuple[RatePeriod, ...] = DEFAULT_RATE_TABLE
    cap_at_principal: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_table", validate_rate_table(self.rate_table))


DEFAULT_POLICY = LateFeePolicy()


def _rate_pieces(
    first_day: date, last_day: date, rate_table: tuple[RatePeriod, ...]
) -> Iterator[tuple[date, date, Decimal]]:
    """Split the inclusive day range [first_day, last_day] at rate changes."""
    for index, period in enumerate(rate_table):
        period_last = (
            rate_table[index + 1].starts_on - _DAY if index + 1 < len(rate_table) else date.max
        )
        lo = max(first_day, period.starts_on)
        hi = min(last_day, period_last)
        if lo <= hi:
            yield lo, hi, period.daily_rate


def _check_principal(principal: Decimal) -> None:
    if not isinstance(principal, Decimal):
        raise TypeError(f"principal must be a Decimal, got {type(principal).__name__}")
    if not principal.is_finite() or principal < 0:
        raise ValueError(f"principal must be a finite non-negative amount, got {principal}")


def accrued_fee(
    principal: Decimal,
    *,
    accrues_after: date,
    through: date,
    policy: LateFeePolicy = DEFAULT_POLICY,
) -> Decimal:
    """Exact (unrounded) fee on a constant principal for the days d with
    accrues_after < d <= through; zero when through <= accrues_after."""
    _check_principal(principal)
    total = Decimal(0)
    if through <= accrues_after:
        return total
    exact = _EXACT
    for first, last, rate in _rate_pieces(accrues_after + _DAY, through, policy.rate_table):
        days = (last - first).days + 1
        total = exact.add(total, exact.multiply(exact.multiply(principal, rate), days))
    return total


# --- fee of one line over its history --------------------------------------------------------


@dataclass(frozen=True)
class PrincipalChange:
    """After a payment that arrived on ``on`` the principal still unpaid is ``unpaid_after``.

    The fee for day ``on`` itself is still charged on the old principal.
    """

    on: date
    unpaid_after: Decimal

    def __post_init__(self) -> None:
        to_fen(self.unpaid_after, name="unpaid_after")


@dataclass(frozen=True)
class Freeze:
    """Days (inclusive; ``last_day=None`` means open-ended) on which no fee accrues."""

    first_day: date
    last_day: date | None = None

    def __post_init__(self) -> None:
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError(f"freeze ends ({self.last_day}) before it starts ({self.first_day})")

    @classmethod
    def installment_agreement(
        cls, *, signed_on: date, breached_due_on: date | None = None
    ) -> Freeze:
        """No fee from the day after signing; after a breach accrual resumes from the day after
        the breached installment's due date."""
        return cls(first_day=signed_on + _DAY, last_day=breached_due_on)

    @classmethod
    def bankruptcy(cls, *, accepted_on: date) -> Freeze:
        """The last day of accrual is the day before the court accepts the bankruptcy case
        (《企业破产法》 art. 46: 附利息的债权自破产申请受理时起停止计息)."""
        return cls(first_day=accepted_on, last_day=None)


@dataclass(frozen=True)
class Segment:
    """Consecutive days charged at one principal and one rate; ``amount`` is exact."""

    first_day: date
    last_day: date
    principal: Decimal
    daily_rate: Decimal
    days: int
    amount: Decimal


def _principal_runs(
    principal: Decimal, changes: Sequence[PrincipalChange], first_day: date, last_day: date
) -> list[tuple[date, date, Decimal]]:
    """Maximal day ranges within [first_day, last_day] of constant principal."""
    runs: list[tuple[date, date, Decimal]] = []
    start, current = first_day, principal
    for change in sorted(changes, key=lambda c: c.on):
        if change.on >= last_day:
            break
        effective = change.on + _DAY
        if effective > start:
            runs.append((start, effective - _DAY, current))
            start = effective
        current = change.unpaid_after
    runs.append((start, last_day, current))
    return runs


def _open_runs(
    freezes: Sequence[Freeze], first_day: date, last_day: date
) -> list[tuple[date, date]]:
    """Maximal day ranges within [first_day, last_day] not covered by any freeze."""
    runs: list[tuple[date, date]] = []
    cursor = first_day
    for freeze in sorted(freezes, key=lambda f: f.first_day):
        if freeze.first_day > last_day:
            break
        freeze_last = date.max if freeze.last_day is None else freeze.last_day
        if freeze_last < cursor:
            continue
        if freeze.first_day > cursor:
            runs.append((cursor, freeze.first_day - _DAY))
        if freeze_last >= last_day:
            return runs
        cursor = freeze_last + _DAY
    runs.append((cursor, last_day))
    return runs


def late_fee_breakdown(
    *,
    principal: Decimal,
    due_date: date,
    as_of: date,
    principal_changes: Sequence[PrincipalChange] = (),
    freezes: Sequence[Freeze] = (),
    policy: LateFeePolicy = DEFAULT_POLICY,
) -> list[Segment]:
    """The fee of one line for the days after ``due_date`` through ``as_of``, in date order, split
    at principal changes, rate changes and freezes; zero-principal and frozen days are skipped.

    Changes on the same date apply in the order given (the last one wins). The cap of the policy is
    not applied here (see ``late_fee``).
    """
    to_fen(principal, name="principal")
    if due_date >= as_of:
        return []
    first_day = due_date + _DAY
    principal_runs = _principal_runs(principal, principal_changes, first_day, as_of)
    open_runs = _open_runs(freezes, first_day, as_of)
    segments: list[Segment] = []
    i = j = 0
    with localcontext(_EXACT):
        while i < len(principal_runs) and j < len(open_runs):
            p_first, p_last, amount = principal_runs[i]
            o_first, o_last = open_runs[j]
            lo, hi = max(p_first, o_first), min(p_last, o_last)
            if lo <= hi and amount != 0:
                for first, last, rate in _rate_pieces(lo, hi, policy.rate_table):
                    days = (last - first).days + 1
                    segments.append(
                        Segment(
                            first_day=first,
                            last_day=last,
                            principal=amount,
                            daily_rate=rate,
                            days=days,
                            amount=amount * rate * days,
                        )
                    )
            if p_last < o_last:
                i += 1
            else:
                j += 1
    return segments


def late_fee(
    *,
    principal: Decimal,
    due_date: date,
    as_of: date,
    principal_changes: Sequence[PrincipalChange] = (),
    freezes: Sequence[Freeze] = (),
    policy: LateFeePolicy = DEFAULT_POLICY,
) -> Decimal:
    """The fee of one line, rounded half-up to the fen once for the whole line (and capped at
    ``principal`` when the policy says so)."""
    segments = late_fee_breakdown(
        principal=principal,
        due_date=due_date,
        as_of=as_of,
        principal_changes=principal_changes,
        freezes=freezes,
        policy=policy,
    )
    with localcontext(_EXACT):
        fee = round_fen(sum((segment.amount for segment in segments), Decimal(0)))
    if policy.cap_at_principal:
        fee = min(fee, round_fen(principal))
    return fee


# --- cached per-line state ------------------------------------------------------------------


@dataclass(frozen=True)
class LineFeeState:
    """The late-fee state of one line as the database keeps it.

    ``accrues_after``: the fee runs from the day after this date (initially the due date, moved to
    the fix date each time the fee is fixed). ``stops_on``: last day of accrual, inclusive (the day
    before a bankruptcy acceptance), None when accrual does not stop.
    """

    principal_unpaid: Decimal
    fee_unpaid: Decimal
    fee_fixed_total: Decimal
    assessed_principal: Decimal
    accrues_after: date
    stops_on: date | None = None

    def __post_init__(self) -> None:
        for name in ("principal_unpaid", "fee_unpaid", "fee_fixed_total", "assessed_principal"):
            to_fen(getattr(self, name), name=name)


def fee_to_fix(
    state: LineFeeState, *, as_of: date, policy: LateFeePolicy = DEFAULT_POLICY
) -> Decimal:
    """The fee accrued over (accrues_after, min(as_of, stops_on)] on ``principal_unpaid``, rounded
    half-up to the fen and, under the cap, reduced so that fee_fixed_total + result never exceeds
    assessed_principal."""
    through = as_of if state.stops_on is None else min(as_of, state.stops_on)
    fee = round_fen(
        accrued_fee(
            state.principal_unpaid,
            accrues_after=state.accrues_after,
            through=through,
            policy=policy,
        )
    )
    if policy.cap_at_principal:
        room = state.assessed_principal - state.fee_fixed_total
        fee = min(fee, max(room, _ZERO))
    return round_fen(fee)


def line_fee_due(
    state: LineFeeState, *, as_of: date, policy: LateFeePolicy = DEFAULT_POLICY
) -> Decimal:
    """The late fee of the line still unpaid as of ``as_of``: the fixed fee not yet paid plus the
    fee accrued since it was last fixed."""
    return round_fen(state.fee_unpaid + fee_to_fix(state, as_of=as_of, policy=policy))


def fix_fee(
    state: LineFeeState, *, on: date, policy: LateFeePolicy = DEFAULT_POLICY
) -> LineFeeState:
    """The state after fixing the fee accrued through ``on`` (e.g. when a payment arrives, before
    the principal it pays is taken off)."""
    fixed = fee_to_fix(state, as_of=on, policy=policy)
    return dataclasses.replace(
        state,
        fee_unpaid=state.fee_unpaid + fixed,
        fee_fixed_total=state.fee_fixed_total + fixed,
        accrues_after=max(state.accrues_after, on),
    )


def fee_fix_at_changes(
    state: LineFeeState,
    changes: Sequence[PrincipalChange],
    *,
    policy: LateFeePolicy = DEFAULT_POLICY,
) -> LineFeeState:
    """The state after each change of the line's principal (a payment that reached it, in date
    order) fixed its fee through its date and then left ``unpaid_after`` unpaid: the fee runs
    segment by segment on the principal unpaid on each day, each segment rounded where it ends,
    as the payments would have fixed it (e.g. when an agreement's breach resumes the fee from a
    date before payments that arrived during the grace days). ``state.principal_unpaid`` is the
    principal before the first change."""
    for change in sorted(changes, key=lambda c: c.on):
        state = fix_fee(state, on=change.on, policy=policy)
        state = dataclasses.replace(state, principal_unpaid=change.unpaid_after)
    return state
