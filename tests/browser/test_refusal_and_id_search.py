"""As a clerk sees them: a refused page says why in Chinese, and a search of the case list by
citizen ID number finds the case with the number nowhere in the address bar."""

import pytest

from replenish.departments import COLLECTION, FINANCE
from tests.factories import (
    ArrearsRowFactory,
    department_user,
    ensure_department_groups,
    import_rows,
)
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "var/screenshots"


@pytest.fixture(autouse=True)
def department_groups():
    ensure_department_groups()


def test_a_refused_page_says_why_in_chinese(login, live_server):
    # given a finance clerk
    department_user(FINANCE, "cashier")
    page = login("cashier", "pw-for-tests")
    page.set_viewport_size({"width": 1440, "height": 900})

    # when the clerk opens the collection department's arrears import by its address
    page.goto(f"{live_server.url}/admin/replenish/agreement/draft/1/")

    # then the page says why, in Chinese
    refusal = page.locator(".refusal")
    assert "无权" in refusal.inner_text()
    page.screenshot(path=f"{SHOTS}/i15-refusal.png")


def test_a_search_by_citizen_id_number_keeps_the_number_out_of_the_address(login, live_server):
    # given two cases, person 2 owing at unit 2
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, person_region="110101"),
            ArrearsRowFactory(unit_no=2, person_no=2, person_region="110101"),
        ]
    )
    number = sample_id_number(2, region_code="110101")
    department_user(COLLECTION, "clerk")
    page = login("clerk", "pw-for-tests")
    page.set_viewport_size({"width": 1440, "height": 900})

    # when the clerk searches the case list for the number
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/")
    page.fill("#searchbar", number)
    with page.expect_navigation():
        page.click("#changelist-search input[type=submit]")

    # then unit 2's case is listed, and the address holds a token, not the number
    assert "idq=" in page.url and number not in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "单位2有限公司" in rows.first.inner_text()
    assert page.input_value("#searchbar") == number
    page.screenshot(path=f"{SHOTS}/i15-id-search.png")
