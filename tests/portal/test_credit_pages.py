"""The unit's credit in the portal (its balance, each use, its refund applications and their
state; applying and withdrawing), finance's refund screens in the admin, and a liquidation group
withdrawing a returned write-off application in the portal."""

from decimal import Decimal as D

import pytest

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, CreditRefund, RefundState, WriteOffApplication
from replenish.services.adjustment import adjustments_post
from replenish.services.credit import unit_credit
from replenish.services.writeoff import writeoff_return
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    case_of,
    department_user,
    go_bankrupt,
    import_arrivals,
    import_rows,
    portal_user,
    submitted_writeoff,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    """Unit 1 overpaid its case by 477.50; its portal user is signed in."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00")])
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    client.force_login(portal_user("unit1", unit=ArrearsCase.objects.get().unit))
    return client


def test_the_unit_sees_its_credit_and_where_it_came_from(member, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        html = member.get("/portal/credit/").content.decode()
    assert '<dd id="credit"><strong>477.50</strong></dd>' in html
    assert "多缴余额明细" in html and "A1" in html and "477.50" in html


def test_the_unit_applies_for_a_refund_and_withdraws_it(member):
    # when
    response = member.post(
        "/portal/credit/",
        {"amount": "400.00", "account_name": "单位1有限公司", "account_bank": "工商银行",
         "account_no": "62220001"},
    )  # fmt: skip

    # then the application is shown with its state
    assert response.status_code == 302
    refund = CreditRefund.objects.get()
    html = member.get("/portal/credit/").content.decode()
    assert refund.refund_no in html and "已申请" in html
    assert '<dd id="pending">400.00</dd>' in html

    # and withdrawn, it says so
    member.post(f"/portal/credit/refunds/{refund.pk}/withdraw/")
    assert CreditRefund.objects.get().state == RefundState.WITHDRAWN
    assert "已撤回" in member.get("/portal/credit/").content.decode()


def test_a_refund_beyond_the_credit_is_refused_on_the_form(member):
    before = all_table_counts()
    response = member.post(
        "/portal/credit/",
        {"amount": "500.00", "account_name": "单位1", "account_bank": "工商银行",
         "account_no": "62220001"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "超过可退还的多缴余额 477.50" in response.content.decode()
    assert all_table_counts() == before and not CreditRefund.objects.exists()


def test_finance_approves_and_pays_out_in_the_admin(member, client):
    member.post(
        "/portal/credit/",
        {"amount": "400.00", "account_name": "单位1", "account_bank": "工商银行",
         "account_no": "62220001"},
    )  # fmt: skip
    refund = CreditRefund.objects.get()
    client.force_login(department_user(FINANCE, "cashier"))
    html = client.get("/admin/").content.decode()
    assert "待审批的退款" in html

    client.post(
        "/admin/replenish/creditrefund/",
        {"action": "approve", "_selected_action": [refund.pk]},
    )
    assert CreditRefund.objects.get().state == RefundState.APPROVED
    client.post(
        "/admin/replenish/creditrefund/",
        {"action": "pay", "_selected_action": [refund.pk], "apply": "1",
         "paid_on": str(IMPORT_DAY), "payout_ref": "OUT-1"},
    )  # fmt: skip
    refund = CreditRefund.objects.get()
    assert (refund.state, refund.payout_ref) == (RefundState.PAID, "OUT-1")
    assert unit_credit(refund.unit_id) == D("77.50")


def test_collection_cannot_approve_a_refund_in_the_admin(member, client):
    member.post(
        "/portal/credit/",
        {"amount": "400.00", "account_name": "单位1", "account_bank": "工商银行",
         "account_no": "62220001"},
    )  # fmt: skip
    client.force_login(department_user(COLLECTION, "clerk"))
    html = client.get("/admin/replenish/creditrefund/").content.decode()
    assert 'value="approve"' not in html and 'value="withdraw"' in html


def test_the_group_withdraws_a_returned_application_in_the_portal(client):
    # given a returned application of unit 2's liquidation group
    import_rows([ArrearsRowFactory(unit_no=2, person_no=2)])
    case = go_bankrupt(case_of(sample_uscc(2)))
    application = submitted_writeoff(case)
    writeoff_return(application_id=application.pk, reason="缺清算报告", actor=SYSTEM)
    client.force_login(portal_user("qingsuan", counterparty=case.obligor))
    html = client.get("/portal/writeoffs/").content.decode()
    assert application.writeoff_no in html and "缺清算报告" in html and "撤回申请" in html

    # when
    response = client.post(f"/portal/writeoffs/{application.pk}/withdraw/")

    # then
    assert response.status_code == 302
    assert WriteOffApplication.objects.get().state == "withdrawn"
    assert ArrearsCase.objects.get(pk=case.pk).state == "registered"
