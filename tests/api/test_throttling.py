"""The API's rate limits: at most the rate in any stretch of time one period long, counted
atomically. Requests of one credential arriving at once (in several web processes, here threads)
never get more than the rate through, not even across the turn of a minute; on the in-process
cache and on the real Redis that the web processes share in production."""

import os
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from api.permissions import UnitThrottle
from api.throttling import RequestTimes

MINUTE_START = 60 * 1_000_000.0


def redis_url() -> str:
    """The Redis of the run (the broker's, when the tests run on PostgreSQL and Redis), else the
    machine's."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else "redis://127.0.0.1:6379/13"


@pytest.fixture(params=["in-process", "redis"])
def shared_cache(request, settings):
    """The default cache the throttles count in (as the product configures it: `CACHE_URL`),
    each test's keys apart from every other's."""
    if request.param == "redis":
        try:
            redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip(f"no Redis at {redis_url()}")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url(),
                "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",  # (expire with the window)
            }
        }
    else:
        cache.clear()
    return cache


class NetworkCache:
    """The cache as a web process sees it over the network: every call takes a little while."""

    def __init__(self, cache):
        self.cache = cache

    def __getattr__(self, name):
        def call(*args, **kwargs):
            time.sleep(0.005)
            return getattr(self.cache, name)(*args, **kwargs)

        return call


def at_once(count: int, ask) -> list:
    """`ask()` from `count` threads released together."""
    answers = []
    start = threading.Barrier(count)

    def run():
        start.wait()
        answers.append(ask())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == count
    return answers


def credential(pk: int):
    return SimpleNamespace(user=SimpleNamespace(pk=pk, is_authenticated=True))


def test_requests_at_once_never_get_more_than_the_rate_through(monkeypatch, shared_cache):
    # given a limit of 10 a minute for one credential
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "10/min"})
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: MINUTE_START + 30.0)
    if not isinstance(caches["default"], RedisCache):  # (Redis is over the network already)
        monkeypatch.setattr(UnitThrottle, "cache", NetworkCache(shared_cache))
    request = credential(424242)

    # when 32 requests arrive at once
    allowed = at_once(32, lambda: UnitThrottle().allow_request(request, None))

    # then exactly 10 are allowed
    assert allowed.count(True) == 10


def test_the_turn_of_a_minute_lets_no_more_than_the_rate_through(monkeypatch, shared_cache):
    # given a limit of 10 a minute, and 8 requests a tenth of a second before a minute turns
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "10/min"})
    request = credential(525252)
    now = [MINUTE_START + 59.9]
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: now[0])
    before = [UnitThrottle().allow_request(request, None) for _ in range(8)]

    # when 8 more come two tenths of a second later, in the next minute
    now[0] = MINUTE_START + 60.1
    after = [UnitThrottle().allow_request(request, None) for _ in range(8)]

    # then 10 of the 16 were allowed, all 8 of the first and 2 of the others
    assert (before.count(True), after.count(True)) == (8, 2)

    # and a minute after the first ones, 8 more are allowed again
    now[0] = MINUTE_START + 59.9 + 60.0 + 0.001
    again = [UnitThrottle().allow_request(request, None) for _ in range(9)]
    assert again.count(True) == 8


def test_a_refused_request_is_told_when_one_more_is_allowed(monkeypatch, shared_cache):
    # given a limit of 2 a minute, used at 0:45 and 0:50
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "2/min"})
    request = credential(434343)
    now = [MINUTE_START + 45.0]
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: now[0])
    assert UnitThrottle().allow_request(request, None)
    now[0] = MINUTE_START + 50.0
    assert UnitThrottle().allow_request(request, None)

    # when a third comes at 0:55, it is refused until the first is a minute old (1:45)
    now[0] = MINUTE_START + 55.0
    refused = UnitThrottle()
    assert not refused.allow_request(request, None)
    assert refused.wait() == 50.0

    # and it is allowed then, not before
    now[0] = MINUTE_START + 104.999
    assert not UnitThrottle().allow_request(request, None)
    now[0] = MINUTE_START + 105.0
    assert UnitThrottle().allow_request(request, None)


def test_events_recorded_whatever_the_count_block_until_the_window_passes(shared_cache):
    # given 3 failed credentials from one address in a window of 60 s, limit 3
    times = RequestTimes(shared_cache)
    for second in (0.0, 1.0, 2.0):
        times.add("failed:10.0.0.1", window=60, now=MINUTE_START + second)

    # then the address is blocked until the first failure is a minute old
    assert times.peek("failed:10.0.0.1", limit=3, window=60, now=MINUTE_START + 10) == 50.0
    assert times.peek("failed:10.0.0.1", limit=3, window=60, now=MINUTE_START + 60) == 0.0
    # and looking recorded nothing: another address is not blocked at all
    assert times.peek("failed:10.0.0.2", limit=1, window=60, now=MINUTE_START + 10) == 0.0
