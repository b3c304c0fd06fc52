"""A unit in its portal, in Chromium: signs in, opens its notice, downloads the PDF,
acknowledges it, and sees a payment arrive once finance has posted it."""

import pytest

from notices.models import Notice, NoticeState
from tests.portal.conftest import finance_posts, unit_history

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_unit_reads_downloads_and_acknowledges_its_notice_then_sees_its_payment(
    live_server, page
):
    # given unit 1 notified, with no money arrived yet, and its portal user
    world = unit_history(1, arrivals=0)

    # when it signs in on a phone-sized screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_url("**/portal/login/**")
    page.fill("#id_username", "unit1")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert "截至" in page.locator("h1").inner_text()

    # and opens its notice
    page.click("nav a[href='/portal/notices/']")
    page.click(f"text={world.notice.number}")
    page.wait_for_url(f"**/portal/notices/{world.notice.pk}/")

    # then it downloads the PDF
    with page.expect_download() as download:
        page.click("#download-pdf")
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(4) == b"%PDF"
    assert download.value.suggested_filename == f"{world.notice.number}.pdf"

    # and acknowledges it
    page.click("#acknowledge")
    page.wait_for_url(f"**/portal/notices/{world.notice.pk}/")
    assert "确认签收通知单" in page.locator(".messages").inner_text()
    assert Notice.objects.get(pk=world.notice.pk).state == NoticeState.ACKNOWLEDGED

    # when no money has arrived, the payments page says so
    page.goto(f"{live_server.url}/portal/payments/")
    assert "暂无到账" in page.locator("#arrivals").inner_text()

    # and finance brings in and posts the unit's transfer
    finance_posts(1, ["BANK-ARRIVED-1"], amount="300.00")

    # then the unit sees it arrive and applied to its case
    page.reload()
    arrivals = page.locator("#arrivals").inner_text()
    assert "BANK-ARRIVED-1" in arrivals and "300.00" in arrivals
    assert world.case.case_no in arrivals
