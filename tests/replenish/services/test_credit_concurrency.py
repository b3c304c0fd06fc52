"""Refunds approved at once never take a unit's credit below zero: each approval has its own
PostgreSQL connection, and they are released together."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kernel.actors import System
from replenish.models import ArrearsCase, CreditEntry, CreditRefund, RefundState
from replenish.services.adjustment import adjustments_post
from replenish.services.credit import refund_apply, refund_approve, unit_credit
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    import_arrivals,
    import_rows,
)
from tests.replenish.services.test_collection_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def credit():
    """Unit 1 has 477.50 of credit."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00")])
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    unit_id = ArrearsCase.objects.get().unit_id
    assert unit_credit(unit_id) == D("477.50")
    return unit_id


def application(unit_id, amount: str) -> CreditRefund:
    return refund_apply(
        unit_id=unit_id,
        amount=D(amount),
        account_name="单位1有限公司",
        account_bank="工商银行",
        account_no="62220001",
        actor=SYSTEM,
    )


def test_two_refunds_approved_at_once_never_take_the_credit_below_zero(credit):
    # given two applications of 400.00 each: the second made when the unit had more credit
    # (here: written directly, as applying checks what open applications already ask for)
    first = application(credit, "400.00")
    second = CreditRefund.objects.create(
        refund_no="R2026-999999", unit_id=credit, amount=D("400.00"), account_name="单位1有限公司",
        account_bank="工商银行", account_no="62220001", applied_by="tests",
    )  # fmt: skip
    # (the system's actor: a transactional test empties the departments' groups)
    one, two = System("finance one"), System("finance two")

    # when two approvers approve them at the same moment
    outcomes = at_once(
        lambda: refund_approve(refund_id=first.pk, actor=one),
        lambda: refund_approve(refund_id=second.pk, actor=two),
    )

    # then one is approved, the other refused with the reason, and the credit is 77.50
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ValidationError), outcomes
    assert "477.50" not in str(refused[0]) and "77.50" in str(refused[0])
    states = sorted(CreditRefund.objects.values_list("state", flat=True))
    assert states == [RefundState.APPLIED, RefundState.APPROVED]
    assert unit_credit(credit) == D("77.50")
    assert CreditEntry.objects.filter(kind="refund").count() == 1


def test_one_refund_approved_twice_at_once_is_approved_once(credit):
    refund = application(credit, "400.00")
    cashier = System("finance")
    outcomes = at_once(*[lambda: refund_approve(refund_id=refund.pk, actor=cashier)] * 2)
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 1, outcomes
    assert CreditEntry.objects.filter(kind="refund").count() == 1
    assert unit_credit(credit) == D("77.50")
