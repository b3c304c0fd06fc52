import pytest

from replenish.models import ArrearsCase
from tests.factories import ArrearsRowFactory, UserFactory, import_rows

pytestmark = pytest.mark.django_db(transaction=True)


def test_collection_staff_sees_the_imported_case_in_the_case_list(live_server, login):
    # given an imported case and a collection clerk who may view cases
    import_rows([ArrearsRowFactory(unit_no=3, person_no=7)])
    case = ArrearsCase.objects.get()
    UserFactory(username="clerk", permissions=["replenish.view_arrearscase"])

    # when the clerk logs in and opens the case list
    page = login("clerk", "pw-for-tests")
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/")

    # then the case is listed with its unit and state, and its page shows the masked ID number
    row = page.locator("#result_list tbody tr").first
    assert case.case_no in row.inner_text()
    assert "单位3有限公司" in row.inner_text()
    page.get_by_role("link", name=case.case_no).click()
    page.wait_for_url(f"**/admin/replenish/arrearscase/{case.pk}/change/")
    page.locator("#lines-group summary").click()  # the lines are folded under the summary
    body = page.locator("#content").inner_text()
    masked = case.lines.get().person.masked_id_number
    assert masked in body
    assert case.lines.get().person.id_number not in body
