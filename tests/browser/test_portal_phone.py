"""A unit's accountant on a phone (390×844, Chromium): signs in, sees what it owes and by when on
the first screen, reads and acknowledges the notice, downloads it, declares a payment from it
with the fields filled in, and sees the declaration rejected with the reason. Every portal page
fits the screen without sideways scrolling. Screenshots of each page: var/screenshots/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notices.models import Notice, NoticeState
from notices.services import case_issue_notice
from replenish.models import Payment, PaymentState
from replenish.selectors import case_owed
from replenish.services.payment import payment_reject
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UserFactory,
    case_of,
    deliver,
    import_rows,
    portal_user,
)
from tests.portal.conftest import unit_history
from tests.portal.test_isolation import OBJECT_OF, patterns, url_of
from tests.screenshots import screenshot_path
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
WIDTHS = (360, 390, 430)


def sign_in(page, live_server, username: str):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")


def on_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def test_a_unit_pays_its_notice_from_a_phone(live_server, page):
    # given unit 7's notice issued three days ago and delivered today by post
    today = timezone.localdate()
    import_rows([ArrearsRowFactory(unit_no=7, person_no=n) for n in (1, 2, 3)])
    case = case_of(sample_uscc(7))
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=today - timedelta(3))
    notice = deliver(notice, today)
    portal_user("unit7", unit=case.unit)
    owed = case_owed(case.pk, as_of=today)

    # when its accountant signs in on a phone
    sign_in(page, live_server, "unit7")
    page.screenshot(path=screenshot_path("portal-phone-home.png"))

    # then the first screen shows the amount owed today, the deadline, and what to do
    assert page.locator("#total").inner_text().startswith(f"{owed.total:,.2f}")
    deadline = page.locator("#deadline").inner_text()
    assert f"缴款期限 {notice.deadline:%Y-%m-%d}" in deadline
    assert f"还剩 {(notice.deadline - today).days} 天" in deadline
    for selector in ("#total", "#deadline", "#declare", "#read"):
        assert on_first_screen(page, selector), selector
    assert notice.number in page.locator("#how-to-pay").inner_text()
    assert overflow(page) <= 0

    # when it opens the notice and reads it
    page.click("#read")
    page.wait_for_url(f"**/portal/notices/{notice.pk}/")
    assert f"{owed.total:,.2f}" in page.locator("#owed-today").inner_text()
    page.screenshot(path=screenshot_path("portal-phone-notice.png"))
    page.click("#read")
    page.wait_for_url(f"**/portal/notices/{notice.pk}/document/")
    assert "送达回证" in page.content()
    assert overflow(page) <= 0
    page.screenshot(path=screenshot_path("portal-phone-notice-reading.png"))
    page.click("#back")
    page.wait_for_url(f"**/portal/notices/{notice.pk}/")

    # and downloads the PDF
    with page.expect_download() as download:
        page.click("#download-pdf")
    with open(download.value.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"

    # and acknowledges it: the page says when and by whom, in Chinese
    page.click("#acknowledge")
    page.wait_for_url(f"**/portal/notices/{notice.pk}/")
    message = page.locator(".messages").inner_text()
    assert "由 unit7 确认签收通知单" in message and f"{today:%Y-%m-%d}" in message
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.ACKNOWLEDGED

    # when it declares a payment from the notice
    page.click("#declare")
    page.wait_for_url("**/portal/payments/declare/?notice=*")
    page.screenshot(path=screenshot_path("portal-phone-declare.png"))

    # then the case, the number to quote and the amount are filled in
    assert page.input_value("#id_case") == str(case.pk)
    assert page.input_value("#id_reference") == notice.number
    assert page.input_value("#id_amount") == f"{owed.total}"
    assert page.input_value("#id_paid_on") == f"{today:%Y-%m-%d}"
    page.select_option("#id_channel", "bank")
    page.fill("#id_channel_ref", "TX-7")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/portal/payments/")
    payment = Payment.objects.get(case=case)
    assert (payment.amount, payment.reference) == (owed.total, notice.number)

    # when the collection department rejects it with a reason
    payment_reject(
        payment_id=payment.pk,
        reason="转账凭证显示的收款账户不是本中心账户",
        # (a user with the duty: transactional tests flush the migration's department groups)
        actor=UserFactory(permissions=["replenish.accept_payment"]),
    )

    # then the unit sees it rejected, and why
    page.reload()
    row = page.locator("#payments tbody tr").first.inner_text()
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REJECTED
    assert "不予受理" in row and "原因：转账凭证显示的收款账户不是本中心账户" in row
    assert overflow(page) <= 0
    page.screenshot(path=screenshot_path("portal-phone-payments.png"), full_page=True)


# Pages that are files or actions, not pages to look at.
NOT_PAGES = {
    "portal:logout",
    "portal:notice_acknowledge",
    "portal:notice_pdf",
    "portal:agreement_pdf",
    "portal:agreement_scan",
    "portal:writeoff_apply",
    # Actions (POST only), and a liquidation group's page a unit's member cannot open.
    "portal:refund_withdraw",
    "portal:writeoff_withdraw",
    "portal:writeoffs",
}


def test_no_portal_page_is_wider_than_a_phone(live_server, page):
    # given a unit with a notice, an agreement, payments, arrivals and messages
    world = unit_history(1, persons=6, arrivals=2)
    sign_in(page, live_server, "unit1")
    wide = []
    for name, route, params in patterns("portal"):
        if name in NOT_PAGES:
            continue
        url = url_of(route, params, getattr(world, OBJECT_OF[name]).pk) if params else route
        # when each page is opened at every phone width
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            page.goto(f"{live_server.url}{url}")
            if overflow(page) > 0:
                wide.append((name, width, overflow(page)))
            if width == PHONE["width"]:
                page.screenshot(
                    path=screenshot_path(f"portal-{name.split(':')[1]}.png"), full_page=True
                )
        if name == "portal:login":
            sign_in(page, live_server, "unit1")

    # then none scrolls sideways
    assert wide == []
