"""The correction screens as a collection clerk sees them (issue 13, rule 4)."""

from pathlib import Path

import pytest

from replenish.departments import COLLECTION
from replenish.models import ArrearsLine, LineCorrection
from tests.factories import ArrearsRowFactory, department_user, import_rows

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_a_clerk_records_a_correction_from_the_case_page(live_server, login, page):
    # given an imported line and two collection clerks
    import_rows([ArrearsRowFactory(unit_no=3, person_no=7)])
    line = ArrearsLine.objects.get()
    for name in ("recorder", "approver"):
        user = department_user(COLLECTION, name)
        user.set_password("pw-for-tests")
        user.save()
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)

    # when the recorder opens the case page and follows the line's "更正" link
    login("recorder", "pw-for-tests")
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/{line.case_id}/change/")
    # (the case page folds its lines: a clerk unfolds them first)
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.get_by_role("link", name="更正", exact=True).click()
    page.wait_for_url("**/linecorrection/record/**")
    page.fill("#id_employer_amount", "700.00")
    page.fill("#id_reason", "缴费基数核定错误")
    page.fill("#id_document_ref", "稽核通知书 2026-017")
    page.screenshot(path=str(SHOTS / "correction-record.png"), full_page=True)
    page.click("input[type=submit]")
    page.wait_for_url("**/linecorrection/")

    # then the list shows it recorded, waiting for a second clerk
    body = page.locator("body").inner_text()
    assert "700.00" in body and "更正已登记" in body
    assert LineCorrection.objects.count() == 1
    page.screenshot(path=str(SHOTS / "correction-list.png"), full_page=True)
