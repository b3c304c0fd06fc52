"""The load test's set-up (`bench.load`): the users its clients act as, signed in by the sessions
it makes for them, and the token of the API; and the report it writes. No time is asserted."""

import contextlib
import io
import json

import pytest
from django.conf import settings

from bench import load
from tests.factories import ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db


def test_the_clients_sessions_and_token_open_the_pages_they_ask_for(client):
    # given a region of one case, and the load test's users made on it
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(load.USERS, {})
    made = json.loads(out.getvalue().strip().splitlines()[-1])

    # when each client asks for its page with what it was given, as bench/locustfile.py does
    def status(user, url) -> int:
        client.cookies.clear()
        headers = {"HTTP_AUTHORIZATION": f"Token {made['token']}"}
        if user is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = made["sessions"][user]
            headers = {}
        return client.get(url, **headers).status_code

    # then every page answers 200: signed in, not sent to the sign-in
    pages = {
        "admin case list": ("load_admin", "/admin/replenish/arrearscase/"),
        "admin case page": ("load_admin", f"/admin/replenish/arrearscase/{made['case']}/change/"),
        "portal home": ("load_portal", "/portal/"),
        "API balance": (None, "/api/unit/balance/"),
    }
    assert {name: status(*page) for name, page in pages.items()} == dict.fromkeys(pages, 200)
    # and a session that is not one of them is sent to the sign-in
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    assert client.get("/portal/").status_code == 302


def test_the_report_gives_each_side_its_processor_time_a_request():
    results = {
        "portal home": {
            "requests": 2000,
            "errors": 0,
            "rps": 33.3,
            "p50": "100",
            "p95": "130",
            "p99": "150",
            "cpu": {"web": 20.0, "database": 4.0, "clients": 1.0},
        }
    }
    block = load.report(results, size="small", cases=10, seconds=60, clients=16, workers=4)
    assert "| portal home | 2000 | 33.3 | 100 | 130 | 150 | 0 | 10.0 | 2.0 | 0.5 |" in block
    assert block.startswith(load.BEGIN) and block.endswith(load.END)
