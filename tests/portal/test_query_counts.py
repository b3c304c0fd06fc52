"""Each portal page runs a fixed number of queries, whatever the unit's history: a unit with one
employee, one arrival and one message, and one with six employees, four arrivals, more payments
and messages, take the same number on every page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notices.models import Notification
from tests.factories import accepted_payment
from tests.portal.conftest import unit_history
from tests.portal.test_isolation import COUNTERPARTY_ONLY, OBJECT_OF, POST_ONLY, patterns, url_of

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def counts(world) -> dict[str, int]:
    client = Client()
    client.force_login(world.user)
    result = {}
    for name, route, params in patterns("portal"):
        if name in POST_ONLY or name in COUNTERPARTY_ONLY or name == "portal:message":
            continue  # opening a message writes (reads it): counted below
        target = getattr(world, OBJECT_OF[name]) if params else None
        result[name] = queries(client, url_of(route, params, target.pk if target else 0))
    return result


def test_every_page_runs_the_same_number_of_queries_for_a_small_and_a_large_history():
    # given a unit with a short history and one with a longer one
    small = unit_history(1)
    large = unit_history(2, persons=6, arrivals=4)
    for amount in ("10.00", "20.00", "30.00"):
        accepted_payment(large.case, amount, channel="wechat")
    Notification.objects.filter(case=large.case).update(read_at=None)

    # then each page takes as many queries for both
    assert counts(large) == counts(small)


def test_opening_a_message_runs_a_fixed_number_of_queries():
    small = unit_history(1)
    large = unit_history(2, persons=6, arrivals=4)
    measured = []
    for world in (small, large):
        client = Client()
        client.force_login(world.user)
        measured.append(queries(client, f"/portal/inbox/{world.message.pk}/"))
    assert measured[0] == measured[1]


def test_a_page_reads_the_units_counterparty_rows_once():
    # given a unit whose home page asks for its cases, notices and agreements
    world = unit_history(1)
    client = Client()
    client.force_login(world.user)

    # when the home page is shown
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/portal/").status_code == 200

    # then the counterparty rows those scopes start from are read once, not once a scope
    reads = [q["sql"] for q in captured if 'FROM "units_counterparty"' in q["sql"]]
    assert len(reads) == 1


def test_a_signed_in_page_reads_the_user_with_the_membership_and_its_unit():
    # given a unit's portal user signed in, with a password as a real sign-in checks it
    world = unit_history(1)
    world.user.set_password("Sign-in-harbour-5")
    world.user.save()
    client = Client()
    signed_in = client.post(
        "/portal/login/", {"username": world.user.username, "password": "Sign-in-harbour-5"}
    )
    assert signed_in.status_code == 302

    # when a page is opened
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/portal/").status_code == 200
    reads = [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("SELECT")]

    # then the user is read once, with the membership and its unit, and neither is read again
    users = [sql for sql in reads if 'FROM "auth_user"' in sql]
    assert len(users) == 1 and '"units_portalmembership"' in users[0] and '"units_unit"' in users[0]
    assert not [sql for sql in reads if 'FROM "units_portalmembership"' in sql]
    assert not [sql for sql in reads if 'FROM "units_unit"' in sql]
