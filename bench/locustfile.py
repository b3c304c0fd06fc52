"""The load test's clients (locust), one scenario a run, chosen by LOAD_SCENARIO: each of the
16 clients signs in once, then asks for its page again and again with no pause.

The clients are locust's `FastHttpUser` (geventhttpclient): the clients share the server's two
cores, so what they spend is taken from the pages measured. Measured on the API balance (20 s,
16 clients, the locust process's user and system time, start-up included): 0.7 ms a request
against 1.1 ms with `HttpUser` (requests).

Run by `bench.load` (`make load`), which builds the region, starts gunicorn and passes
LOAD_CASE (a case's id), LOAD_PASSWORD and LOAD_TOKEN (the portal user's API token).
"""

import os
import re

from locust import FastHttpUser, constant, task

SCENARIO = os.environ.get("LOAD_SCENARIO", "case list")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
CASE = os.environ.get("LOAD_CASE", "1")
TOKEN = os.environ.get("LOAD_TOKEN", "")

PAGES = {
    "admin case list": ("/admin/login/", "load_admin", "/admin/replenish/arrearscase/"),
    "admin case page": (
        "/admin/login/",
        "load_admin",
        f"/admin/replenish/arrearscase/{CASE}/change/",
    ),
    "portal home": ("/portal/login/", "load_portal", "/portal/"),
    "API balance": (None, None, "/api/unit/balance/"),
}


class Client(FastHttpUser):
    wait_time = constant(0)
    headers: dict = {}

    def on_start(self):
        login, username, _page = PAGES[SCENARIO]
        if login is None:
            self.headers = {"Authorization": f"Token {TOKEN}"}
            return
        form = self.client.get(login, name="sign in").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        self.client.post(
            login,
            # `next`, as the sign-in form sends it: without it the admin's sign-in answers with
            # a redirect to the site's default page, which the admin does not serve (404).
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": PAGES[SCENARIO][2],
            },
            headers={"Referer": self.host + login},
            name="sign in",
        )

    @task
    def page(self):
        # Redirects not followed: a page answered by a redirect (to the sign-in) is a failure.
        with self.client.get(
            PAGES[SCENARIO][2],
            name=SCENARIO,
            headers=self.headers,
            catch_response=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.url}")
