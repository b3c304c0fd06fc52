"""A clerk searches the case list by citizen ID number as before, and the number never appears
in an address: the search box posts it, the list is shown for a session token."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from replenish.departments import COLLECTION
from tests.factories import ArrearsRowFactory, department_user, import_rows
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
LIST = reverse("admin:replenish_arrearscase_changelist")
SEARCH = reverse("admin:replenish_arrearscase_search")


@pytest.fixture
def clerk(client):
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, person_region="110101"),
            ArrearsRowFactory(unit_no=2, person_no=2, person_region="110101"),
        ]
    )
    client.force_login(department_user(COLLECTION))
    return client


def units_listed(html: str) -> set[str]:
    return set(re.findall(r"单位\d有限公司", html))


def test_the_search_box_posts_its_term(clerk):
    html = clerk.get(LIST).content.decode()
    form = re.search(r'<form id="changelist-search"[^>]*>', html).group(0)
    assert 'method="post"' in form and f'action="{SEARCH}"' in form


def test_an_id_number_is_searched_without_the_number_in_any_address(clerk):
    # given person 2, who owes at unit 2
    number = sample_id_number(2, region_code="110101")

    # when the clerk searches for the number
    posted = clerk.post(SEARCH, {"q": number})
    page = clerk.get(posted["Location"])

    # then the list shows unit 2's case, and no address carries the number
    assert posted.status_code == 302
    assert number not in posted["Location"]
    assert re.fullmatch(rf"{LIST}\?idq=[\w-]+", posted["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert units_listed(html.split('id="result_list"')[1]) == {"单位2有限公司"}
    assert f'value="{number}"' in html  # shown in the search box, in the page
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if number in h]


def test_another_term_is_searched_by_the_address_as_before(clerk):
    posted = clerk.post(SEARCH, {"q": "单位1", "state__exact": "registered"})
    assert posted["Location"] == f"{LIST}?state__exact=registered&q=%E5%8D%95%E4%BD%8D1"
    page = clerk.get(posted["Location"]).content.decode()
    assert units_listed(page.split('id="result_list"')[1]) == {"单位1有限公司"}


def test_a_token_of_another_session_finds_nothing(clerk):
    number = sample_id_number(2, region_code="110101")
    location = clerk.post(SEARCH, {"q": number})["Location"]

    other = Client()
    other.force_login(department_user(COLLECTION, "other"))
    html = other.get(location).content.decode()
    assert "单位2有限公司" in html  # the whole list: the token means nothing here
    assert "单位1有限公司" in html
