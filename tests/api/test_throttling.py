"""The API's rate limits count atomically: requests of one credential arriving at once (in
several web processes, here threads) never get more than the rate through."""

import threading
import time
from types import SimpleNamespace

from django.core.cache import cache

from api.permissions import UnitThrottle


class NetworkCache:
    """The cache as a web process sees Redis: every call takes a little while."""

    def __init__(self, cache):
        self.cache = cache

    def __getattr__(self, name):
        def call(*args, **kwargs):
            time.sleep(0.005)
            return getattr(self.cache, name)(*args, **kwargs)

        return call


def test_requests_at_once_never_get_more_than_the_rate_through(monkeypatch):
    # given a limit of 10 a minute for one credential, half-way through a minute
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "10/min"})
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: 60 * 1_000_000 + 30.0)
    monkeypatch.setattr(UnitThrottle, "cache", NetworkCache(cache))
    cache.clear()
    request = SimpleNamespace(user=SimpleNamespace(pk=424242, is_authenticated=True))
    allowed = []
    start = threading.Barrier(16)

    def ask():
        start.wait()
        allowed.append(UnitThrottle().allow_request(request, None))

    # when 32 requests arrive at once
    threads = [threading.Thread(target=lambda: [ask(), ask()][0]) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly 10 are allowed
    assert len(allowed) == 32
    assert allowed.count(True) == 10


def test_a_refused_request_is_told_when_the_window_ends(monkeypatch):
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "1/min"})
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: 60 * 1_000_000 + 45.0)
    cache.clear()
    request = SimpleNamespace(user=SimpleNamespace(pk=434343, is_authenticated=True))
    first, second = UnitThrottle(), UnitThrottle()
    assert first.allow_request(request, None)
    assert not second.allow_request(request, None)
    assert second.wait() == 15.0
