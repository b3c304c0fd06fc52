"""The unit's money in Chromium, from its phone (390×844) to the back office (1440×900): a payment
declared with its proof and accepted by collection with the proof opened; a refund applied for,
approved and paid out by finance. Screenshots under var/screenshots/."""

import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, CreditRefund, Payment, PaymentState, RefundState
from replenish.selectors import case_owed
from replenish.services.adjustment import adjustments_post
from tests.browser.test_back_office_walk import as_user, department_groups  # noqa: F401
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
    portal_user,
)
from tests.portal.conftest import unit_history

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    SHOTS.mkdir(parents=True, exist_ok=True)


def receipt_png() -> bytes:
    """A bank transfer receipt as a phone photographs it: a picture, not a blank file."""
    image = Image.new("RGB", (600, 380), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 10, 590, 370], outline="#c00", width=4)
    draw.rectangle([10, 10, 590, 70], fill="#c00")
    draw.text((30, 30), "BANK TRANSFER RECEIPT", fill="white")
    for n, line in enumerate(["Payer: unit 1", "Amount: see declaration", "Ref: TX-PHONE-1"]):
        draw.text((30, 110 + 50 * n), line, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def portal_login(browser, live_server, username: str):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    return context, page


def run_action(page, action: str):
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").click()


def test_a_payment_declared_on_the_phone_is_accepted_by_collection_with_its_proof(
    browser,
    live_server,
    as_user,  # noqa: F811 (the walk's fixture)
    tmp_path,
):
    # given unit 1 notified, nothing arrived, and a collection clerk
    world = unit_history(1, arrivals=0)
    department_user(COLLECTION, "collector")
    owed = case_owed(world.case.pk, as_of=timezone.localdate()).total
    amount = owed + D("100.00")
    proof = tmp_path / "receipt.png"
    proof.write_bytes(receipt_png())

    # when the unit declares more than it owes from its phone, with the photo of its receipt
    context, phone = portal_login(browser, live_server, "unit1")
    phone.goto(f"{live_server.url}/portal/payments/declare/")
    phone.select_option("#id_channel", "bank")
    phone.fill("#id_paid_on", str(IMPORT_DAY))
    phone.fill("#id_amount", str(amount))
    phone.fill("#id_reference", world.notice.number)
    phone.fill("#id_channel_ref", "TX-PHONE-1")
    phone.set_input_files("#id_proof", str(proof))
    with phone.expect_navigation():
        phone.click("form.form button[type=submit]")

    # then the form asks it to confirm the overpayment
    assert "请确认" in phone.locator("form.form").inner_text()
    phone.screenshot(path=str(SHOTS / "i14-declare-confirm-phone.png"), full_page=True)
    phone.check("#id_confirm_overpayment")
    phone.set_input_files("#id_proof", str(proof))
    with phone.expect_navigation():
        phone.click("form.form button[type=submit]")
    phone.wait_for_url(f"{live_server.url}/portal/payments/")
    assert "已申报" in phone.locator(".messages").inner_text()
    phone.screenshot(path=str(SHOTS / "i14-declared-phone.png"), full_page=True)
    context.close()
    payment = Payment.objects.get(via="portal")
    assert payment.expected_overpayment == D("100.00")

    # when collection opens its queue on the desk
    desk = as_user("collector")
    desk.set_viewport_size(DESK)
    queues = desk.locator("#work-queues")
    assert "待受理的申报缴款" in queues.inner_text()
    desk.click("#work-queues a[href*='via__exact=portal']")
    desk.wait_for_selector("#result_list tbody tr")
    rows = desk.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert world.notice.number in rows.first.inner_text()
    assert "100.00" in rows.first.inner_text()  # the expected overpayment
    desk.screenshot(path=str(SHOTS / "i14-declared-queue-desk.png"), full_page=True)

    # and opens the payment: the proof is on the page, loaded
    desk.goto(f"{live_server.url}/admin/replenish/payment/{payment.pk}/change/")
    image = desk.locator("img.proof")
    image.wait_for()
    desk.wait_for_function("document.querySelector('img.proof').naturalWidth === 600")
    desk.screenshot(path=str(SHOTS / "i14-declared-proof-desk.png"), full_page=True)
    with desk.context.expect_page() as opened:
        desk.click(".field-proof_shown a[target=_blank] >> nth=1")
    proof_page = opened.value
    proof_page.wait_for_load_state()
    assert proof_page.url.endswith(f"/admin/replenish/payment/{payment.pk}/proof/")
    proof_page.close()

    # then collection accepts it
    desk.goto(f"{live_server.url}/admin/replenish/payment/?state__exact=recorded&via__exact=portal")
    run_action(desk, "accept")
    desk.wait_for_selector(".messagelist")
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.ACCEPTED


def test_a_refund_from_the_units_application_to_the_payment_out(
    browser,
    live_server,
    as_user,  # noqa: F811 (the walk's fixture)
):
    # given unit 1 overpaid by 477.50, its portal user and a finance clerk
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00")])
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    portal_user("unit1", unit=ArrearsCase.objects.get().unit)
    department_user(FINANCE, "cashier")

    # when the unit applies for a refund on its phone
    context, phone = portal_login(browser, live_server, "unit1")
    phone.click("nav a[href='/portal/credit/']")
    assert "477.50" in phone.locator("#credit").inner_text()
    phone.fill("#id_amount", "400.00")
    phone.fill("#id_account_name", "单位1有限公司")
    phone.fill("#id_account_bank", "中国工商银行上海分行")
    phone.fill("#id_account_no", "6222020000000001")
    with phone.expect_navigation():
        phone.click("form.form button[type=submit]")
    assert "已申请" in phone.locator("#refunds").inner_text()
    phone.screenshot(path=str(SHOTS / "i14-refund-applied-phone.png"), full_page=True)
    refund = CreditRefund.objects.get()

    # and finance approves it, then records it paid out
    desk = as_user("cashier")
    desk.set_viewport_size(DESK)
    assert "待审批的退款" in desk.locator("#work-queues").inner_text()
    desk.click("#work-queues a[href*='creditrefund'][href*='applied']")
    desk.wait_for_selector("#result_list tbody tr")
    run_action(desk, "approve")
    desk.wait_for_selector(".messagelist")
    assert CreditRefund.objects.get().state == RefundState.APPROVED
    desk.goto(f"{live_server.url}/admin/replenish/creditrefund/?state__exact=approved")
    run_action(desk, "pay")
    desk.fill("#id_payout_ref", "ICBC-OUT-0001")
    desk.screenshot(path=str(SHOTS / "i14-refund-pay-desk.png"), full_page=True)
    desk.click("input[name=apply]")
    desk.wait_for_selector(".messagelist")
    desk.goto(f"{live_server.url}/admin/replenish/creditrefund/{refund.pk}/change/")
    desk.screenshot(path=str(SHOTS / "i14-refund-paid-desk.png"), full_page=True)

    # then the unit sees it paid and its credit reduced
    phone.reload()
    assert "已支付" in phone.locator("#refunds").inner_text()
    assert "77.50" in phone.locator("#credit").inner_text()
    phone.screenshot(path=str(SHOTS / "i14-refund-paid-phone.png"), full_page=True)
    context.close()
    refund = CreditRefund.objects.get()
    assert (refund.state, refund.payout_ref) == (RefundState.PAID, "ICBC-OUT-0001")
