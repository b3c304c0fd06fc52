"""The live server of the browser tests on SQLite answers one request at a time.

There the test database is one in-memory database shared by the test and the live server's
threads, and every request opens a transaction (ATOMIC_REQUESTS, `BEGIN IMMEDIATE`): two requests
at once — a page and its image, say — fail with "database table is locked" instead of waiting.
PostgreSQL serves them side by side, as in production.
"""

import threading

_one_at_a_time = threading.Lock()


def one_request_at_a_time(get_response):
    def middleware(request):
        with _one_at_a_time:
            return get_response(request)

    return middleware
