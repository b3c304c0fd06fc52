"""The ledger is append-only and never negative, enforced by the database itself (migration 0002)
and by the model, on SQLite and PostgreSQL alike."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from replenish.models import ArrearsLine, LedgerEntry, LedgerKind
from tests.factories import ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def line():
    """A line of 800.00 employer + 200.00 employee, with its `assessed` entry."""
    import_rows([ArrearsRowFactory(employer_amount="800.00", employee_amount="200.00")])
    return ArrearsLine.objects.get()


def entry_on(line, **amounts) -> LedgerEntry:
    return LedgerEntry(
        case_id=line.case_id,
        line=line,
        effective_on=date(2026, 3, 1),
        actor_label="system:tests",
        **amounts,
    )


def ledger_rows():
    return list(
        LedgerEntry.objects.order_by("id").values_list("kind", "employer", "employee", "late_fee")
    )


def test_a_raw_update_of_an_entry_is_refused(line):
    # given the assessed entry
    entry = LedgerEntry.objects.get()

    # when it is changed with plain SQL
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE replenish_ledgerentry SET employer = 1 WHERE id = %s", [entry.pk])

    # then it is as it was
    assert ledger_rows() == [("assessed", D("800.00"), D("200.00"), D("0.00"))]


def test_a_queryset_update_of_an_entry_is_refused(line):
    # given / when
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(line=line).update(reason="tidied up")

    # then
    assert LedgerEntry.objects.get().reason == ""


def test_saving_an_existing_entry_or_deleting_one_raises(line):
    # given
    entry = LedgerEntry.objects.get()
    entry.employer = D("1.00")

    # when / then
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert ledger_rows() == [("assessed", D("800.00"), D("200.00"), D("0.00"))]


@pytest.mark.parametrize(
    ("kind", "amounts"),
    [
        (LedgerKind.PAYMENT_APPLIED, {"employer": D("-800.01")}),
        (LedgerKind.WRITTEN_OFF, {"employee": D("-200.01")}),
        (LedgerKind.CORRECTION, {"employer": D("-0.01"), "employee": D("-200.01")}),
        (LedgerKind.PAYMENT_APPLIED, {"late_fee": D("-0.01")}),
    ],
    ids=["employer", "employee", "employee-by-correction", "late-fee"],
)
def test_an_entry_taking_a_portion_of_the_line_below_zero_is_refused(line, kind, amounts):
    # given the line owes 800.00 + 200.00 and no late fee

    # when an entry takes one portion below zero
    with pytest.raises(IntegrityError, match="below zero"), transaction.atomic():
        entry_on(line, kind=kind, **amounts).save()

    # then nothing was added
    assert ledger_rows() == [("assessed", D("800.00"), D("200.00"), D("0.00"))]


def test_an_entry_taking_a_portion_exactly_to_zero_is_accepted(line):
    # given / when the whole employer portion and part of the employee portion are paid
    entry_on(
        line, kind=LedgerKind.PAYMENT_APPLIED, employer=D("-800.00"), employee=D("-0.01")
    ).save()

    # then
    assert ledger_rows() == [
        ("assessed", D("800.00"), D("200.00"), D("0.00")),
        ("payment_applied", D("-800.00"), D("-0.01"), D("0.00")),
    ]


@pytest.mark.parametrize(
    ("kind", "amounts", "constraint"),
    [
        (LedgerKind.ASSESSED, {"employer": D("-1.00")}, "ledger_assessed_is_principal_increase"),
        (LedgerKind.ASSESSED, {"late_fee": D("1.00")}, "ledger_assessed_is_principal_increase"),
        (LedgerKind.PAYMENT_APPLIED, {"employer": D("1.00")}, "ledger_reductions_are_negative"),
        (LedgerKind.LATE_FEE_FIXED, {"employer": D("1.00")}, "ledger_fee_fixed_is_fee_increase"),
        (LedgerKind.CORRECTION, {}, "ledger_entry_not_empty"),
    ],
)
def test_check_constraints_refuse_entries_of_the_wrong_sign(line, kind, amounts, constraint):
    # given / when an entry whose amounts contradict its kind (the line stays >= 0 throughout)
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        entry_on(line, kind=kind, **amounts).save()

    # then
    assert LedgerEntry.objects.count() == 1
