"""Owed today in SQL (replenish/owed_today.py) is the money rules' figure (selectors.case_owed),
case by case, on cases in every situation: partly paid, in an agreement, bankrupt, written off,
split, and a line that straddles the 2011 rate change, with and without the cap."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from replenish.models import ArrearsCase, ArrearsLine
from replenish.owed_today import case_owed_fen, fen_to_yuan, oldest_unpaid_due, total_owed
from replenish.selectors import case_owed, owed_by_case
from tests.factories import ArrearsRowFactory, case_of, import_rows, pay

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
