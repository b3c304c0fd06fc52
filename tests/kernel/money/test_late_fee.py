from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.money import (
    DEFAULT_POLICY,
    FEN,
    Freeze,
    LateFeePolicy,
    LineFeeState,
    PrincipalChange,
    RatePeriod,
    Segment,
    accrued_fee,
    fee_fix_at_changes,
    fee_to_fix,
    fix_fee,
    from_fen,
    late_fee,
    late_fee_breakdown,
    line_fee_due,
    round_fen,
)

D = Decimal
DAY = timedelta(days=1)
RATE_CHANGE = date(2011, 7, 1)
CAPPED = LateFeePolicy(cap_at_principal=True)

# --- strategies ------------------------------------------------------------------------------

dates = st.dates(min_value=date(2009, 1, 1), max_value=date(2028, 12, 31))
principals = st.integers(min_value=0, max_value=10**9).map(from_fen)
positive_principals = st.integers(min_value=1, max_value=10**9).map(from_fen)
offsets = st.integers(min_value=-60, max_value=4000)
policies = st.sampled_from([DEFAULT_POLICY, CAPPED])


@st.composite
def histories(draw: st.DrawFn) -> dict[str, object]:
    """A line with a few partial payments and freezes, as keyword arguments of late_fee."""
    principal_fen = draw(st.integers(min_value=1, max_value=10**9))
    due_date = draw(dates)
    payment_days = sorted(draw(st.lists(offsets, max_size=4)))
    unpaid = sorted(
        draw(
            st.lists(
                st.integers(min_value=0, max_value=principal_fen),
                min_size=len(payment_days),
                max_size=len(payment_days),
            )
        ),
        reverse=True,
    )
    changes = [
        PrincipalChange(on=due_date + offset * DAY, unpaid_after=from_fen(fen))
        for offset, fen in zip(payment_days, unpaid, strict=True)
    ]
    freezes = []
    for start, length in draw(
        st.lists(st.tuples(offsets, st.none() | st.integers(0, 400)), max_size=2)
    ):
        first = due_date + start * DAY
        freezes.append(Freeze(first, None if length is None else first + length * DAY))
    return {
        "principal": from_fen(principal_fen),
        "due_date": due_date,
        "principal_changes": changes,
        "freezes": freezes,
    }


# --- worked examples -------------------------------------------------------------------------


def test_round_fen_is_half_up() -> None:
    assert round_fen(D("0.005")) == D("0.01")
    assert round_fen(D("0.0049999")) == D("0.00")
    assert round_fen(D("2.675")) == D("2.68")
    assert round_fen(D("7")) == D("7.00")
    assert D("0.01") == FEN


def test_45_days_at_the_current_rate() -> None:
    # given 1,000.00 due on 2026-01-15, when the fee is computed as of 2026-03-01
    fee = late_fee(principal=D("1000.00"), due_date=date(2026, 1, 15), as_of=date(2026, 3, 1))
    # then it is 45 days (16 Jan .. 1 Mar) x 0.05% x 1,000.00
    assert fee == D("22.50")


def test_range_across_the_2011_rate_change_is_split() -> None:
    # given 1,000.00 due on 2011-06-20, when the fee is computed as of 2011-07-10
    segments = late_fee_breakdown(
        principal=D("1000.00"), due_date=date(2011, 6, 20), as_of=date(2011, 7, 10)
    )
    # then 21..30 June are charged at 0.2% and 1..10 July at 0.05%
    assert segments == [
        Segment(date(2011, 6, 21), date(2011, 6, 30), D("1000.00"), D("0.002"), 10, D("20")),
        Segment(date(2011, 7, 1), date(2011, 7, 10), D("1000.00"), D("0.0005"), 10, D("5")),
    ]
    assert late_fee(
        principal=D("1000.00"), due_date=date(2011, 6, 20), as_of=date(2011, 7, 10)
    ) == D("25.00")


def test_whole_old_rate_era() -> None:
    # given 500.00 due on 2010-12-31, when computed as of 2011-06-30 (181 days, all at 0.2%)
    fee = late_fee(principal=D("500.00"), due_date=date(2010, 12, 31), as_of=date(2011, 6, 30))
    # then
    assert fee == D("181.00")


def test_partial_payment_reduces_the_principal_from_the_next_day() -> None:
    # given 1,000.00 due 2026-01-15, with 600.00 paid on 2026-02-01
    kwargs = {
        "principal": D("1000.00"),
        "due_date": date(2026, 1, 15),
        "principal_changes": [PrincipalChange(on=date(2026, 2, 1), unpaid_after=D("400.00"))],
    }
    # when the fee is computed as of 2026-03-01
    segments = late_fee_breakdown(as_of=date(2026, 3, 1), **kwargs)
    # then 16 Jan..1 Feb (17 days) run on 1,000.00 and 2 Feb..1 Mar (28 days) on 400.00
    assert [(s.first_day, s.last_day, s.principal, s.days) for s in segments] == [
        (date(2026, 1, 16), date(2026, 2, 1), D("1000.00"), 17),
        (date(2026, 2, 2), date(2026, 3, 1), D("400.00"), 28),
    ]
    assert late_fee(as_of=date(2026, 3, 1), **kwargs) == D("14.10")  # 8.50 + 5.60


def test_fully_paid_line_stops_accruing() -> None:
    # given 1,000.00 due 2026-01-15 paid in full on 2026-01-25
    changes = [PrincipalChange(on=date(2026, 1, 25), unpaid_after=D("0.00"))]
    # when computed long after
    fee = late_fee(
        principal=D("1000.00"),
        due_date=date(2026, 1, 15),
        as_of=date(2027, 1, 1),
        principal_changes=changes,
    )
    # then only 16..25 January count
    assert fee == D("5.00")


def test_installment_agreement_freezes_until_breach() -> None:
    # given 1,000.00 due 2026-01-15, an agreement signed 2026-02-01 whose installment due
    # 2026-03-01 was breached
    freeze = Freeze.installment_agreement(
        signed_on=date(2026, 2, 1), breached_due_on=date(2026, 3, 1)
    )
    assert freeze == Freeze(date(2026, 2, 2), date(2026, 3, 1))
    # when computed as of 2026-03-31
    fee = late_fee(
        principal=D("1000.00"),
        due_date=date(2026, 1, 15),
        as_of=date(2026, 3, 31),
        freezes=[freeze],
    )
    # then 16 Jan..1 Feb (17 days) plus 2..31 March (30 days) are charged
    assert fee == D("23.50")


def test_bankruptcy_stops_accrual_the_day_before_acceptance() -> None:
    # given 1,000.00 due 2026-01-15 and a bankruptcy accepted on 2026-02-10
    freezes = [Freeze.bankruptcy(accepted_on=date(2026, 2, 10))]
    # when computed at or after acceptance
    fees = {
        late_fee(principal=D("1000.00"), due_date=date(2026, 1, 15), as_of=as_of, freezes=freezes)
        for as_of in (date(2026, 2, 9), date(2026, 2, 10), date(2030, 1, 1))
    }
    # then only 16 Jan..9 Feb (25 days) count
    assert fees == {D("12.50")}


def test_a_half_fen_rounds_up() -> None:
    # given 10.00 one day late, the exact fee is 0.005
    fee = late_fee(principal=D("10.00"), due_date=date(2026, 1, 15), as_of=date(2026, 1, 16))
    # then it is fixed at 0.01
    assert fee == D("0.01")


def test_cap_limits_the_fee_to_the_principal() -> None:
    # given 1,000.00 due 2005-01-01, uncapped the fee is several times the principal
    kwargs = {"principal": D("1000.00"), "due_date": date(2005, 1, 1), "as_of": date(2020, 1, 1)}
    assert late_fee(**kwargs) > D("1000.00")
    # when the cap is on, then it is exactly the principal
    assert late_fee(**kwargs, policy=CAPPED) == D("1000.00")


def test_zero_on_and_before_the_due_date() -> None:
    for as_of in (date(2026, 1, 1), date(2026, 1, 15)):
        assert late_fee(principal=D("1000.00"), due_date=date(2026, 1, 15), as_of=as_of) == 0
        assert (
            late_fee_breakdown(principal=D("1000.00"), due_date=date(2026, 1, 15), as_of=as_of)
            == []
        )


def test_custom_rate_table() -> None:
    # given a table with a zero rate until 2020 and 0.1% after
    policy = LateFeePolicy(
        rate_table=(
            RatePeriod(date.min, D("0")),
            RatePeriod(date(2020, 1, 1), D("0.001")),
        )
    )
    # when 100.00 due 2019-12-30 is computed as of 2020-01-05
    fee = late_fee(
        principal=D("100.00"), due_date=date(2019, 12, 30), as_of=date(2020, 1, 5), policy=policy
    )
    # then only the five days of 2020 cost anything
    assert fee == D("0.50")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ((), "at least one"),
        ((RatePeriod(date(2000, 1, 1), D("0.001")),), "date.min"),
        (
            (
                RatePeriod(date.min, D("0.001")),
                RatePeriod(date(2012, 1, 1), D("0.001")),
                RatePeriod(date(2011, 1, 1), D("0.001")),
            ),
            "sorted",
        ),
        (
            (RatePeriod(date.min, D("0.001")), RatePeriod(date.min, D("0.002"))),
            "sorted",
        ),
        ((RatePeriod(date.min, D("-0.001")),), "non-negative"),
        ((RatePeriod(date.min, 0.001),), "non-negative"),  # type: ignore[arg-type]
    ],
)
def test_invalid_rate_tables_are_rejected(table: tuple[RatePeriod, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LateFeePolicy(rate_table=table)


def test_invalid_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Freeze(date(2026, 2, 1), date(2026, 1, 31))
    with pytest.raises(ValueError, match="2 decimal places"):
        PrincipalChange(on=date(2026, 2, 1), unpaid_after=D("1.005"))
    with pytest.raises(ValueError, match="negative"):
        late_fee(principal=D("-1.00"), due_date=date(2026, 1, 1), as_of=date(2026, 2, 1))
    with pytest.raises(TypeError, match="Decimal"):
        late_fee(principal=1000.0, due_date=date(2026, 1, 1), as_of=date(2026, 2, 1))  # type: ignore[arg-type]


# --- the cached per-line state ---------------------------------------------------------------


def fresh_state(principal: Decimal, due_date: date, stops_on: date | None = None) -> LineFeeState:
    return LineFeeState(
        principal_unpaid=principal,
        fee_unpaid=D("0.00"),
        fee_fixed_total=D("0.00"),
        assessed_principal=principal,
        accrues_after=due_date,
        stops_on=stops_on,
    )


def test_fixing_at_a_payment_and_continuing() -> None:
    # given 1,000.00 due 2026-01-15, when 600.00 arrives on 2026-02-01
    state = fix_fee(fresh_state(D("1000.00"), date(2026, 1, 15)), on=date(2026, 2, 1))
    assert (state.fee_unpaid, state.accrues_after) == (D("8.50"), date(2026, 2, 1))
    state = dataclasses.replace(state, principal_unpaid=D("400.00"))
    # then the fee due as of 2026-03-01 is the fixed 8.50 plus 28 days on 400.00
    assert fee_to_fix(state, as_of=date(2026, 3, 1)) == D("5.60")
    assert line_fee_due(state, as_of=date(2026, 3, 1)) == D("14.10")


def test_state_stops_on_caps_the_accrual() -> None:
    # given a line whose accrual stops on 2026-02-09 (bankruptcy accepted 2026-02-10)
    state = fresh_state(D("1000.00"), date(2026, 1, 15), stops_on=date(2026, 2, 9))
    # then
    assert line_fee_due(state, as_of=date(2027, 1, 1)) == D("12.50")


def test_state_cap_accounts_for_fee_already_fixed() -> None:
    # given 100.00 on which 99.00 of fee has already been fixed (and 40.00 of it paid)
    state = dataclasses.replace(
        fresh_state(D("100.00"), date(2005, 1, 1)),
        fee_unpaid=D("59.00"),
        fee_fixed_total=D("99.00"),
        accrues_after=date(2010, 1, 1),
    )
    # when capped, then only 1.00 more can be fixed
    assert fee_to_fix(state, as_of=date(2011, 1, 1), policy=CAPPED) == D("1.00")
    assert line_fee_due(state, as_of=date(2011, 1, 1), policy=CAPPED) == D("60.00")
    # and uncapped the fee keeps running
    assert fee_to_fix(state, as_of=date(2011, 1, 1)) == D("73.00")


def test_fixing_before_the_due_date_does_not_move_the_start() -> None:
    state = fix_fee(fresh_state(D("1000.00"), date(2026, 1, 15)), on=date(2026, 1, 10))
    assert (state.fee_fixed_total, state.accrues_after) == (D("0.00"), date(2026, 1, 15))


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(history=histories(), first=offsets, extra=st.integers(0, 2000), policy=policies)
def test_fee_is_monotone_in_as_of(
    history: dict, first: int, extra: int, policy: LateFeePolicy
) -> None:
    earlier = history["due_date"] + first * DAY
    later = earlier + extra * DAY
    assert late_fee(as_of=earlier, policy=policy, **history) <= late_fee(
        as_of=later, policy=policy, **history
    )


@settings(max_examples=150, deadline=None)
@given(p=principals, q=principals, k=st.integers(0, 1000), start=dates, a=offsets, b=offsets)
def test_accrued_fee_is_linear_in_principal(
    p: Decimal, q: Decimal, k: int, start: date, a: int, b: int
) -> None:
    span = {"accrues_after": start + min(a, b) * DAY, "through": start + max(a, b) * DAY}
    assert accrued_fee(p * k, **span) == k * accrued_fee(p, **span)
    assert accrued_fee(p + q, **span) == accrued_fee(p, **span) + accrued_fee(q, **span)


@settings(max_examples=100, deadline=None)
@given(history=histories(), k=st.integers(0, 50), as_of=offsets)
def test_breakdown_total_is_linear_in_principal(history: dict, k: int, as_of: int) -> None:
    scaled = {
        **history,
        "principal": history["principal"] * k,
        "principal_changes": [
            PrincipalChange(on=c.on, unpaid_after=c.unpaid_after * k)
            for c in history["principal_changes"]
        ],
    }
    day = history["due_date"] + as_of * DAY

    def total(kwargs: dict) -> Decimal:
        return sum((s.amount for s in late_fee_breakdown(as_of=day, **kwargs)), D(0))

    assert total(scaled) == k * total(history)


@settings(max_examples=150, deadline=None)
@given(p=principals, start=dates, steps=st.lists(st.integers(0, 3000), min_size=3, max_size=3))
def test_accrued_fee_is_additive_over_adjacent_ranges(
    p: Decimal, start: date, steps: list[int]
) -> None:
    a, b, c = (start + offset * DAY for offset in sorted(steps))
    assert accrued_fee(p, accrues_after=a, through=c) == accrued_fee(
        p, accrues_after=a, through=b
    ) + accrued_fee(p, accrues_after=b, through=c)


@settings(max_examples=100, deadline=None)
@given(history=histories(), before=st.integers(0, 4000), policy=policies)
def test_fee_is_zero_on_or_before_the_due_date(
    history: dict, before: int, policy: LateFeePolicy
) -> None:
    as_of = history["due_date"] - before * DAY
    assert late_fee(as_of=as_of, policy=policy, **history) == 0
    assert late_fee_breakdown(as_of=as_of, **history) == []


@settings(max_examples=150, deadline=None)
@given(
    p=principals,
    period=st.sampled_from(
        [(date(2000, 1, 1), date(2011, 6, 30)), (RATE_CHANGE, date(2030, 12, 31))]
    ),
    data=st.data(),
)
def test_within_one_rate_period_fee_is_principal_times_rate_times_days(
    p: Decimal, period: tuple[date, date], data: st.DataObject
) -> None:
    first = data.draw(st.dates(min_value=period[0], max_value=period[1]))
    last = data.draw(st.dates(min_value=first, max_value=period[1]))
    rate = D("0.002") if last < RATE_CHANGE else D("0.0005")
    days = (last - first).days + 1
    assert accrued_fee(p, accrues_after=first - DAY, through=last) == p * rate * days


@settings(max_examples=150, deadline=None)
@given(
    p=positive_principals,
    due_date=dates,
    as_of=offsets,
    freeze_start=offsets,
    freeze_days=st.integers(0, 1500),
)
def test_frozen_days_add_nothing(
    p: Decimal, due_date: date, as_of: int, freeze_start: int, freeze_days: int
) -> None:
    # given a line with one freeze
    day = due_date + as_of * DAY
    freeze = Freeze(due_date + freeze_start * DAY, due_date + (freeze_start + freeze_days) * DAY)
    # when the breakdown is computed
    segments = late_fee_breakdown(principal=p, due_date=due_date, as_of=day, freezes=[freeze])
    # then no segment touches a frozen day
    assert freeze.last_day is not None
    assert all(s.last_day < freeze.first_day or s.first_day > freeze.last_day for s in segments)
    # and the total is the unfrozen fee minus exactly the fee of the frozen days in range
    lo, hi = max(due_date, freeze.first_day - DAY), min(day, freeze.last_day)
    expected = accrued_fee(p, accrues_after=due_date, through=day) - accrued_fee(
        p, accrues_after=lo, through=hi
    )
    assert sum((s.amount for s in segments), D(0)) == expected


@settings(max_examples=100, deadline=None)
@given(history=histories(), freeze_start=offsets, inside=st.integers(0, 400), policy=policies)
def test_fee_as_of_a_frozen_day_equals_fee_the_day_before_the_freeze(
    history: dict, freeze_start: int, inside: int, policy: LateFeePolicy
) -> None:
    first = history["due_date"] + freeze_start * DAY
    freezes = [*history["freezes"], Freeze(first, None)]
    kwargs = {**history, "freezes": freezes, "policy": policy}
    assert late_fee(as_of=first + inside * DAY, **kwargs) == late_fee(as_of=first - DAY, **kwargs)


@settings(max_examples=100, deadline=None)
@given(history=histories(), accepted=offsets, after=st.integers(0, 3000), policy=policies)
def test_bankrupt_line_fee_after_acceptance_equals_fee_the_day_before(
    history: dict, accepted: int, after: int, policy: LateFeePolicy
) -> None:
    accepted_on = history["due_date"] + accepted * DAY
    plain = {**history, "freezes": [], "policy": policy}
    bankrupt = {**plain, "freezes": [Freeze.bankruptcy(accepted_on=accepted_on)]}
    assert late_fee(as_of=accepted_on + after * DAY, **bankrupt) == late_fee(
        as_of=accepted_on - DAY, **plain
    )


@settings(max_examples=150, deadline=None)
@given(
    principal_fen=st.integers(1, 10**9),
    due_date=dates,
    payments=st.lists(st.tuples(offsets, st.integers(0, 10**9)), max_size=5),
    as_of=st.integers(-60, 5000),
    accepted=st.none() | offsets,
    policy=policies,
)
def test_fixing_at_each_payment_matches_the_whole_history(
    principal_fen: int,
    due_date: date,
    payments: list[tuple[int, int]],
    as_of: int,
    accepted: int | None,
    policy: LateFeePolicy,
) -> None:
    # given a line, partial payments up to as_of (unpaid principal never increasing) and maybe a
    # bankruptcy acceptance
    principal = from_fen(principal_fen)
    end = due_date + as_of * DAY
    unpaid = principal_fen
    changes = []
    for offset, left in sorted(payments):
        if due_date + offset * DAY <= end:
            unpaid = min(unpaid, left)
            changes.append(
                PrincipalChange(on=due_date + offset * DAY, unpaid_after=from_fen(unpaid))
            )
    accepted_on = None if accepted is None else due_date + accepted * DAY

    # when the fee is fixed at each payment date, the principal reduced, and fixed once more at the
    # end (the stateful path through LineFeeState)
    state = fresh_state(
        principal, due_date, stops_on=None if accepted_on is None else accepted_on - DAY
    )
    for change in changes:
        state = fix_fee(state, on=change.on, policy=policy)
        state = dataclasses.replace(state, principal_unpaid=change.unpaid_after)
    due_now = line_fee_due(state, as_of=end, policy=policy)
    state = fix_fee(state, on=end, policy=policy)

    # then it matches the fee over the whole history within the rounding of each fix
    whole = late_fee(
        principal=principal,
        due_date=due_date,
        as_of=end,
        principal_changes=changes,
        freezes=[] if accepted_on is None else [Freeze.bankruptcy(accepted_on=accepted_on)],
        policy=policy,
    )
    fixes = len(changes) + 1
    assert state.fee_fixed_total == state.fee_unpaid == due_now
    assert abs(state.fee_fixed_total - whole) <= D("0.005") * fixes
    if not changes:
        assert state.fee_fixed_total == whole
    if policy.cap_at_principal:
        assert state.fee_fixed_total <= principal


def test_fee_fixed_at_changes_rounds_each_segment_where_a_payment_ends_it():
    # given 1,000.00 running from 2026-04-01, 200.00 paid on 04-10 and 300.00 on 04-13
    state = LineFeeState(
        principal_unpaid=Decimal("1000.00"),
        fee_unpaid=Decimal("1.00"),
        fee_fixed_total=Decimal("1.00"),
        assessed_principal=Decimal("1000.00"),
        accrues_after=date(2026, 4, 1),
    )
    # when
    after = fee_fix_at_changes(
        state,
        [
            PrincipalChange(on=date(2026, 4, 13), unpaid_after=Decimal("500.00")),
            PrincipalChange(on=date(2026, 4, 10), unpaid_after=Decimal("800.00")),
        ],
    )
    # then 9 days on 1,000.00 (4.50) and 3 days on 800.00 (1.20), fixed; 500.00 runs from 04-13
    assert (after.fee_unpaid, after.fee_fixed_total) == (Decimal("6.70"), Decimal("6.70"))
    assert (after.principal_unpaid, after.accrues_after) == (Decimal("500.00"), date(2026, 4, 13))
