"""The case list: its filters, its search, and its cost (queries independent of the rows shown;
no count of the whole table on PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, department_user, import_rows
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
URL = reverse("admin:replenish_arrearscase_changelist")


@pytest.fixture
def cases():
    """Three units' cases whose oldest unpaid month fell due 10, 100 and 400 days ago."""
    today = timezone.localdate()
    rows = [
        ArrearsRowFactory(unit_no=n, person_no=n, due_date=str(today - timedelta(days=days)))
        for n, days in ((1, 10), (2, 100), (3, 400))
    ]
    import_rows(rows, today=today)
    return {c.unit.name: c for c in ArrearsCase.objects.select_related("unit")}


def shown(client, query: str = "") -> set[str]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    return {name for name in ("单位1有限公司", "单位2有限公司", "单位3有限公司") if name in html}


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("0-30", {"单位1有限公司"}),
        ("31-90", set()),
        ("91-180", {"单位2有限公司"}),
        ("181-365", set()),
        ("365%2B", {"单位3有限公司"}),
    ],
)
def test_the_overdue_filter_buckets_cases_by_their_oldest_unpaid_month(
    staff_client, cases, bucket, expected
):
    # when / then
    assert shown(staff_client, f"overdue={bucket}") == expected


def test_the_queue_filter_shows_the_cases_to_notify(staff_client, cases):
    # given unit 1's case was notified
    case_issue_notice(case_id=cases["单位1有限公司"].pk, actor=SYSTEM)

    # when / then
    assert shown(staff_client, "queue=cases_to_notify") == {"单位2有限公司", "单位3有限公司"}


def test_the_obligor_status_and_agreement_kind_filters(staff_client, cases):
    # when / then: all units are active, none has an agreement
    assert len(shown(staff_client, "unit_status=active")) == 3
    assert shown(staff_client, "unit_status=bankrupt") == set()
    assert shown(staff_client, "agreement_kind=installment") == set()


def test_the_region_filter_offers_the_regions_with_cases_without_reading_every_case(staff_client):
    # given cases in two regions
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, region_code="110105"),
            ArrearsRowFactory(unit_no=2, person_no=2, region_code="310104"),
            ArrearsRowFactory(unit_no=3, person_no=3, region_code="310104"),
        ]
    )

    # when the list is shown
    with CaptureQueriesContext(connection) as queries:
        html = staff_client.get(URL).content.decode()

    # then both regions are offered, found without a DISTINCT over the cases
    assert "?region_code=110105" in html and "?region_code=310104" in html
    assert not any("DISTINCT" in q["sql"].upper() for q in queries.captured_queries)
    # and choosing one shows its cases only
    assert shown(staff_client, "region_code=310104") == {"单位2有限公司", "单位3有限公司"}
    assert shown(staff_client, "region_code=110105") == {"单位1有限公司"}


def test_an_id_number_finds_its_cases_by_exact_match_only(staff_client, cases):
    # given person 2 owes at unit 2
    full = sample_id_number(2, region_code="110101")

    # when / then: the whole number finds the case, a part of it finds nothing
    assert shown(staff_client, f"q={full}") == {"单位2有限公司"}
    assert shown(staff_client, f"q={full[:10]}") == set()


def test_search_by_unit_name_and_case_number(staff_client, cases):
    # when / then
    assert shown(staff_client, "q=单位3") == {"单位3有限公司"}
    assert shown(staff_client, f"q={cases['单位1有限公司'].case_no}") == {"单位1有限公司"}


def test_the_queue_filter_offers_only_the_users_queues(client, cases):
    # given an audit user (no queue of cases) and a collection user
    client.force_login(department_user(AUDIT))
    audit_html = client.get(URL).content.decode()
    client.force_login(department_user(COLLECTION))
    collection_html = client.get(URL).content.decode()

    # then
    assert "queue=cases_to_notify" not in audit_html
    assert "queue=cases_to_notify" in collection_html


def test_the_list_runs_the_same_queries_for_one_case_and_for_many(staff_client):
    # given one case
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    with CaptureQueriesContext(connection) as one:
        staff_client.get(URL)

    # when twenty more cases exist
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(2, 22)])
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(URL)

    # then
    assert response.content.decode().count("单位2") >= 1
    assert len(many) == len(one)


@pytest.mark.postgres
def test_the_unfiltered_list_never_counts_the_whole_table_on_postgresql(staff_client, cases):
    # when
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(URL)

    # then the three cases are there and no statement counted the case table
    assert response.status_code == 200
    assert len(shown(staff_client)) == 3
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "replenish_arrearscase" in q["sql"]
    ]
    assert counts == []


@pytest.mark.postgres
def test_a_filtered_list_counts_what_it_found(staff_client, cases):
    # when
    html = staff_client.get(f"{URL}?overdue=0-30", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then: the count shown is the filtered one
    assert "1 arrears case" in html
