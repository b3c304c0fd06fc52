from datetime import date
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from replenish.models import ArrearsLine, LedgerEntry, LedgerKind
from replenish.selectors import case_owed
from replenish.services.ledger import Posting, ledger_differences, ledger_post, lines_fee_fix
from tests.factories import SYSTEM, ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    # given one line of 800.00 + 200.00 due 2026-01-15 (the docs/rules.md worked example)
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return ArrearsLine.objects.get()


def test_fixing_the_fee_posts_it_rounded_and_moves_the_accrual_start(line):
    # when the fee is fixed on 2026-03-01 (45 days)
    with transaction.atomic():
        postings = lines_fee_fix([line], on=date(2026, 3, 1), actor=SYSTEM, source="test")

    # then 22.50 is posted as fixed and the fee now runs from 2026-03-01
    assert [(p.kind, p.late_fee) for p in postings] == [(LedgerKind.LATE_FEE_FIXED, D("22.50"))]
    line.refresh_from_db()
    assert (line.fee_unpaid, line.fee_fixed_total, line.fee_accrues_after) == (
        D("22.50"),
        D("22.50"),
        date(2026, 3, 1),
    )
    # and what the case owes as of a later date is the fixed fee plus the new accrual
    owed = case_owed(line.case_id, as_of=date(2026, 3, 11))
    assert (owed.principal, owed.late_fee) == (D("1000.00"), D("27.50"))
    line.case.refresh_from_db()
    assert line.case.fee_unpaid == D("22.50")
    assert ledger_differences() == []


def test_fixing_twice_on_the_same_day_posts_nothing_the_second_time(line):
    with transaction.atomic():
        lines_fee_fix([line], on=date(2026, 3, 1), actor=SYSTEM, source="test")
        again = lines_fee_fix([line], on=date(2026, 3, 1), actor=SYSTEM, source="test")
    assert again == []
    assert LedgerEntry.objects.filter(kind=LedgerKind.LATE_FEE_FIXED).count() == 1


def test_a_posting_updates_line_and_case_caches_from_the_ledger(line):
    # when 150.00 of the employee portion is applied
    with transaction.atomic():
        ledger_post(
            [
                Posting(
                    case_id=line.case_id,
                    line_id=line.pk,
                    kind=LedgerKind.PAYMENT_APPLIED,
                    effective_on=date(2026, 3, 1),
                    source="test",
                    employee=D("-150.00"),
                )
            ],
            actor=SYSTEM,
        )
    # then the line and the case say so, and agree with the ledger
    line.refresh_from_db()
    assert (line.employer_unpaid, line.employee_unpaid) == (D("800.00"), D("50.00"))
    line.case.refresh_from_db()
    assert (line.case.principal_unpaid, line.case.paid_total) == (D("850.00"), D("150.00"))
    assert ledger_differences() == []


def test_a_posting_beyond_the_balance_is_refused_and_changes_nothing(line):
    # when more than the employee portion is taken off
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_post(
            [
                Posting(
                    case_id=line.case_id,
                    line_id=line.pk,
                    kind=LedgerKind.PAYMENT_APPLIED,
                    effective_on=date(2026, 3, 1),
                    source="test",
                    employee=D("-200.01"),
                )
            ],
            actor=SYSTEM,
        )
    # then nothing was written
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT_APPLIED).count() == 0
    line.refresh_from_db()
    assert line.employee_unpaid == D("200.00")


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_refused(line):
    with pytest.raises(RuntimeError):
        ledger_post(
            [
                Posting(
                    case_id=line.case_id,
                    line_id=line.pk,
                    kind=LedgerKind.CORRECTION,
                    effective_on=date(2026, 3, 1),
                    source="test",
                    employer=D("1.00"),
                )
            ],
            actor=SYSTEM,
        )
