"""The unit's credit in the API (balance, each use, refunds and their state) and the finance
system recording a refund paid out."""

from decimal import Decimal as D

import pytest

from replenish.models import ArrearsCase, CreditRefund, RefundState
from replenish.services.adjustment import adjustments_post
from replenish.services.credit import refund_apply, refund_approve, unit_credit
from tests.api.conftest import client_with
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    import_arrivals,
    import_rows,
    portal_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund(db):
    """Unit 1 overpaid by 477.50 and has a refund of 400.00 approved, to be paid out."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00")])
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    unit = ArrearsCase.objects.get().unit
    refund = refund_apply(
        unit_id=unit.pk, amount=D("400.00"), account_name="单位1", account_bank="工商银行",
        account_no="62220001", actor=SYSTEM,
    )  # fmt: skip
    return refund_approve(refund_id=refund.pk, actor=SYSTEM)


def test_the_unit_reads_its_credit_and_refunds(refund):
    client = client_with(portal_user("unit1", unit=refund.unit))
    body = client.get("/api/unit/credit/").json()
    assert (body["credit"], body["pending"]) == ("77.50", "0.00")
    assert [(e["kind"], e["amount"]) for e in body["entries"]] == [
        ("refund", "-400.00"),
        ("overpayment", "477.50"),
    ]
    assert [(r["refund_no"], r["state"]) for r in body["refunds"]] == [
        (refund.refund_no, "approved")
    ]


def test_finance_records_the_refund_paid_once(finance, refund):
    url = f"/api/finance/refunds/{refund.refund_no}/paid/"
    response = finance.post(url, {"paid_on": "2026-03-02", "payout_ref": "OUT-1"}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["payout_ref"]) == ("paid", "OUT-1")
    # the same record sent again changes nothing
    before = all_table_counts()
    again = finance.post(url, {"paid_on": "2026-03-02", "payout_ref": "OUT-1"}, format="json")
    assert again.status_code == 200 and all_table_counts() == before
    assert CreditRefund.objects.get().state == RefundState.PAID
    assert unit_credit(refund.unit_id) == D("77.50")


def test_a_refund_not_approved_is_refused_with_the_reason(finance, refund):
    other = refund_apply(
        unit_id=refund.unit_id, amount=D("10.00"), account_name="单位1", account_bank="工商银行",
        account_no="62220001", actor=SYSTEM,
    )  # fmt: skip
    before = all_table_counts()
    response = finance.post(
        f"/api/finance/refunds/{other.refund_no}/paid/",
        {"paid_on": "2026-03-02", "payout_ref": "OUT-2"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert all_table_counts() == before
    assert (
        finance.post(
            "/api/finance/refunds/R0000-000000/paid/",
            {"paid_on": "2026-03-02", "payout_ref": "X"},
            format="json",
        ).status_code
        == 404
    )


def test_a_unit_credential_cannot_record_a_refund_paid(refund):
    client = client_with(portal_user("unit1", unit=refund.unit))
    response = client.post(
        f"/api/finance/refunds/{refund.refund_no}/paid/",
        {"paid_on": "2026-03-02", "payout_ref": "OUT-1"},
        format="json",
    )
    assert response.status_code == 403
    assert CreditRefund.objects.get().state == RefundState.APPROVED
