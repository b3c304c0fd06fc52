"""The admin index's work queues and the dashboard: what they count and show, per department,
in a number of queries that does not depend on how much there is."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.admin.case_list import OVERDUE_BUCKETS
from backoffice.queues import QUEUES
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase, Arrival
from replenish.selectors import case_owed
from replenish.services.writeoff import writeoff_accept
from tests.factories import (
    ArrearsRowFactory,
    ArrivalRowFactory,
    accepted_payment,
    case_of,
    department_user,
    go_bankrupt,
    import_arrivals,
    import_rows,
    submitted_writeoff,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")
DASHBOARD = reverse("admin:replenish_dashboard")
CASES = reverse("admin:replenish_arrearscase_changelist")


def queue_count(html: str, key: str) -> str | None:
    start = html.find(f'class="queue-{key}"')
    if start < 0:
        return None
    cell = html.index('class="queue-count">', start) + len('class="queue-count">')
    return html[cell : html.index("<", cell)]


@pytest.fixture
def waiting():
    """Two cases to notify, one accepted payment, one unmatched arrival."""
    today = timezone.localdate()
    import_rows(
        [ArrearsRowFactory(unit_no=n, person_no=n, due_date=str(today)) for n in (1, 2)],
        today=today,
    )
    accepted_payment(ArrearsCase.objects.order_by("pk").first(), "100.00")
    import_arrivals([ArrivalRowFactory(unit_no=99, amount="50.00")])


def test_collection_sees_its_queues_with_counts(client, waiting):
    # given
    client.force_login(department_user(COLLECTION))

    # when
    html = client.get(INDEX).content.decode()

    # then
    assert queue_count(html, "cases_to_notify") == "2"
    assert queue_count(html, "adjustments_to_post") == "0"
    assert queue_count(html, "payments_to_collect") is None
    assert "?queue=cases_to_notify" in html


def test_finance_sees_its_queues_with_counts(client, waiting):
    # given
    client.force_login(department_user(FINANCE))

    # when
    html = client.get(INDEX).content.decode()

    # then
    assert queue_count(html, "payments_to_collect") == "1"
    assert queue_count(html, "unmatched_arrivals") == "1"
    assert queue_count(html, "cases_to_notify") is None


def test_audit_works_the_write_off_applications_waiting_for_its_decision(client):
    # given an application accepted by collection and one still waiting for collection
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    accepted = submitted_writeoff(go_bankrupt(case_of(sample_uscc(1))))
    writeoff_accept(application_id=accepted.pk, actor=department_user(COLLECTION, "clerk"))
    submitted_writeoff(go_bankrupt(case_of(sample_uscc(2))))
    client.force_login(department_user(AUDIT))

    # when audit opens the index
    html = client.get(INDEX).content.decode()

    # then its one queue counts the accepted application, and collection's are not shown
    assert [q.key for q in QUEUES if q.department == AUDIT] == ["writeoffs_to_decide"]
    assert 'id="work-queues"' in html
    assert "state__in=accepted,first_approved" in html
    assert "queue=cases_to_notify" not in html
    queue = next(q for q in QUEUES if q.key == "writeoffs_to_decide")
    assert list(queue.items().values_list("pk", flat=True)) == [accepted.pk]


def test_the_index_runs_the_same_queries_whatever_waits(client):
    # given
    client.force_login(department_user(COLLECTION))
    with CaptureQueriesContext(connection) as few:
        client.get(INDEX)
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(1, 12)])

    # when
    with CaptureQueriesContext(connection) as many:
        html = client.get(INDEX).content.decode()

    # then
    assert queue_count(html, "cases_to_notify") == "11"
    assert len(many) == len(few)


def test_the_dashboard_shows_owed_by_state_aging_and_money_by_month(client):
    # given two cases, one due 10 and one 200 days ago, and 50.00 arrived today
    today = timezone.localdate()
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, due_date=str(today - timedelta(days=10))),
            ArrearsRowFactory(unit_no=2, person_no=2, due_date=str(today - timedelta(days=200))),
        ],
        today=today,
    )
    import_arrivals(
        [ArrivalRowFactory(unit_no=99, amount="50.00", arrived_on=str(today))], today=today
    )
    client.force_login(department_user(AUDIT))

    # when
    with CaptureQueriesContext(connection) as queries:
        html = client.get(DASHBOARD).content.decode()

    # then: 2 registered cases owing 2 × 1000.00; each bucket its 1000.00; 50.00 this month
    registered = html[html.index('class="state-registered"') :]
    assert '<td class="num">2</td><td class="num">2,000.00</td>' in registered[:300]
    aging_0 = html[html.index('class="aging-0-30"') :][:200]
    aging_181 = html[html.index('class="aging-181-365"') :][:200]
    assert "1,000.00" in aging_0 and "1,000.00" in aging_181
    month = html[html.index(f'class="month-{today:%Y-%m}"') :][:200]
    assert '<td class="num">50.00</td><td class="num">0.00</td>' in month
    assert 'style="width: 100%"' in html
    assert len(queries) <= 11


def test_the_dashboards_aging_buckets_and_the_case_lists_filters_agree(client):
    # given cases whose oldest unpaid months are of every age, one with a recent month as well
    today = timezone.localdate()
    ages = [5, 29, 45, 120, 200, 400, 800]
    rows = [
        ArrearsRowFactory(unit_no=n, person_no=n, due_date=str(today - timedelta(days=age)))
        for n, age in enumerate(ages, start=1)
    ]
    rows.append(
        ArrearsRowFactory(
            unit_no=6, person_no=60, period="2026-02", due_date=str(today - timedelta(days=3))
        )
    )
    import_rows(rows, today=today)
    client.force_login(department_user(COLLECTION))

    # when the dashboard is read and each bucket's filter is applied to the case list
    html = client.get(DASHBOARD).content.decode()
    for key, _label, _low, _high in OVERDUE_BUCKETS:
        listed = client.get(CASES, {"overdue": key}).context["cl"].result_list
        row = html[html.index(f'class="aging-{key}"') :].split("</tr>")[0]

        # then the bucket counts the cases the filter lists and sums what they owe
        owed = sum((case_owed(c.pk, as_of=today).total for c in listed), Decimal("0.00"))
        principal = sum((c.principal_unpaid for c in listed), Decimal("0.00"))
        assert f'<td class="num">{len(listed)}</td>' in row, key
        assert f'<td class="num">{principal:,.2f}</td>' in row, key
        assert f'<td class="num owed">{owed:,.2f}</td>' in row, key


def test_the_dashboard_link_is_on_the_index(client):
    # given
    client.force_login(department_user(FINANCE))

    # when / then
    assert DASHBOARD in client.get(INDEX).content.decode()


def test_a_queue_opens_its_list_oldest_first_and_the_plain_list_stays_newest_first(client):
    # given two unmatched arrivals: one waiting in the queue for nine days, one since today
    today = timezone.localdate()
    import_arrivals(
        [
            ArrivalRowFactory(arrival_ref="WAITING-LONG", unit_no=98, amount="10.00"),
            ArrivalRowFactory(arrival_ref="WAITING-SHORT", unit_no=99, amount="20.00"),
        ]
    )
    Arrival.objects.filter(arrival_ref="WAITING-LONG").update(
        state_changed_at=timezone.now() - timedelta(days=9), arrived_on=today - timedelta(days=10)
    )
    Arrival.objects.filter(arrival_ref="WAITING-SHORT").update(arrived_on=today)
    client.force_login(department_user(FINANCE, "cashier"))
    unmatched = next(q for q in QUEUES if q.key == "unmatched_arrivals")

    def order(url: str) -> list[str]:
        html = client.get(url).content.decode()
        return sorted(("WAITING-LONG", "WAITING-SHORT"), key=html.index)

    # when the queue's link is followed / then the one waiting longest comes first
    assert order(unmatched.url()) == ["WAITING-LONG", "WAITING-SHORT"]
    # and the whole list is still newest arrival first
    assert order(reverse("admin:replenish_arrival_changelist")) == [
        "WAITING-SHORT",
        "WAITING-LONG",
    ]
