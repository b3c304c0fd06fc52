"""Owed today in SQL (replenish/owed_today.py) is the money rules' figure (selectors.case_owed),
case by case, on cases in every situation: partly paid, in an agreement, bankrupt, written off,
split, and a line that straddles the 2011 rate change, with and without the cap."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from replenish.models import ArrearsCase, ArrearsLine
from replenish.owed_today import (
    case_owed_fen,
    case_owed_summed,
    fen_to_yuan,
    oldest_unpaid_due,
    total_owed,
)
from replenish.selectors import case_owed, owed_by_case
from tests.factories import ArrearsRowFactory, case_of, import_rows, pay
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_situation():
    call_command("demo", stdout=io.StringIO())
    # a line due before the rate changed on 2011-07-01, partly paid since
    row = ArrearsRowFactory(unit_no=77, period="2011-05", due_date="2011-06-15")
    import_rows([row, ArrearsRowFactory(unit_no=77, period="2025-11", due_date="2025-12-15")])
    pay(case_of(row.unit_uscc).pk, "333.33", on=date(2015, 3, 3))
    return list(ArrearsCase.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize("as_of", [date(2026, 3, 1), date(2027, 12, 31)])
@pytest.mark.parametrize("cap", [False, True])
def test_the_sql_figure_is_the_money_rules_figure_for_every_case(
    every_situation, settings, as_of, cap
):
    # given the policy
    settings.LATE_FEE_CAP_AT_PRINCIPAL = cap

    # when owed today is read both ways
    in_sql = dict(ArrearsCase.objects.annotate(owed=case_owed_fen(as_of)).values_list("pk", "owed"))
    by_rules = owed_by_case(every_situation, as_of=as_of)

    # then they agree on every case, to the fen, and so do the totals
    for case_id in every_situation:
        expected = by_rules[case_id].total if case_id in by_rules else 0
        assert fen_to_yuan(in_sql[case_id]) == expected, case_id
    assert total_owed(as_of) == sum((o.total for o in by_rules.values()), 0)
    assert len(every_situation) > 15


def test_the_oldest_unpaid_month_is_the_earliest_due_date_still_unpaid(every_situation):
    # given the case with a line of 2011 partly paid
    case = ArrearsCase.objects.filter(lines__due_date=date(2011, 6, 15)).get()

    # when
    oldest = ArrearsCase.objects.annotate(oldest=oldest_unpaid_due()).get(pk=case.pk).oldest

    # then
    assert oldest == date(2011, 6, 15)
    assert case_owed(case.pk, as_of=date(2026, 3, 1)).principal == sum(
        line.principal_unpaid for line in ArrearsLine.objects.filter(case=case)
    )


def fen(low: int, high: int):
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


DAYS = st.dates(date(2009, 1, 1), date(2030, 12, 31))


@st.composite
def line_states(draw):
    """A line's cached columns as the ledger can leave them (assessed 800.00 + 200.00): any
    principal unpaid, a fee fixed and partly paid, the fee running from any day, stopped or
    not."""
    fixed = draw(fen(0, 200_000))
    return {
        "employer_unpaid": draw(fen(0, 80_000)),
        "employee_unpaid": draw(fen(0, 20_000)),
        "fee_fixed_total": fixed,
        "fee_unpaid": draw(st.integers(0, int(fixed * 100)).map(lambda n: Decimal(n).scaleb(-2))),
        "fee_accrues_after": draw(DAYS),
        "fee_stops_on": draw(st.none() | DAYS),
    }


def test_the_case_summed_by_the_database_owes_what_the_money_rules_say_on_any_lines(settings):
    # given a case of four lines (800.00 + 200.00 assessed each)
    import_rows([ArrearsRowFactory(unit_no=78, person_no=n) for n in range(4)])
    case = case_of(sample_uscc(78))
    line_ids = list(case.lines.order_by("pk").values_list("pk", flat=True))
    assert len(line_ids) == 4

    @given(
        lines=st.lists(line_states(), min_size=4, max_size=4),
        as_of=DAYS,
        cap=st.booleans(),
    )
    @hypothesis_settings(max_examples=150, deadline=None)
    def check(lines, as_of, cap):
        # when the lines hold any state, under either policy
        settings.LATE_FEE_CAP_AT_PRINCIPAL = cap
        for pk, columns in zip(line_ids, lines, strict=True):
            ArrearsLine.objects.filter(pk=pk).update(**columns)

        # then the sum in SQL is the Python rules' sum, principal and late fee, to the fen
        assert case_owed_summed(case.pk, as_of=as_of) == case_owed(case.pk, as_of=as_of)

    check()
