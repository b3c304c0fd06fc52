"""The load test's clients (locust), one scenario a run, chosen by LOAD_SCENARIO: each of the
16 clients asks for its page again and again with no pause, signed in as a user would be after
signing in (the session `bench.load` made for the user: LOAD_SESSIONS) or with the portal user's
API token (LOAD_TOKEN). A page answered otherwise than 200 (a redirect to the sign-in, say) is a
failure.

The clients are locust's `FastHttpUser` (geventhttpclient): the clients share the server's two
cores, so what they spend is taken from the pages measured. Measured on the API balance (20 s,
16 clients, the locust process's user and system time, start-up included): 0.7 ms a request
against 1.1 ms with `HttpUser` (requests).

Run by `bench.load` (`make load`), which builds the region, starts gunicorn and passes
LOAD_CASE (a case's id), LOAD_SESSIONS and LOAD_TOKEN.
"""

import json
import os

from locust import FastHttpUser, constant, task

SCENARIO = os.environ.get("LOAD_SCENARIO", "admin case list")
CASE = os.environ.get("LOAD_CASE", "1")
TOKEN = os.environ.get("LOAD_TOKEN", "")
SESSIONS = json.loads(os.environ.get("LOAD_SESSIONS", "{}"))
SESSION_COOKIE = "sessionid"  # Django's SESSION_COOKIE_NAME, which the product keeps

# scenario: (who asks, the page)
PAGES = {
    "admin case list": ("load_admin", "/admin/replenish/arrearscase/"),
    "admin case page": ("load_admin", f"/admin/replenish/arrearscase/{CASE}/change/"),
    "portal home": ("load_portal", "/portal/"),
    "API balance": (None, "/api/unit/balance/"),
}


class Client(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        user, _page = PAGES[SCENARIO]
        if user is None:
            self.headers = {"Authorization": f"Token {TOKEN}"}
        else:
            self.headers = {"Cookie": f"{SESSION_COOKIE}={SESSIONS[user]}"}

    @task
    def page(self):
        with self.client.get(
            PAGES[SCENARIO][1],
            name=SCENARIO,
            headers=self.headers,
            catch_response=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.url}")
