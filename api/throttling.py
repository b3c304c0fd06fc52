"""Rate limits that hold when many web processes answer one credential at once.

A limit of N a period means at most N requests in any stretch of time one period long (a sliding
window). DRF's throttles keep that rule but read a credential's request times from the cache,
check them and write them back: requests arriving together in several web processes all read the
same times, and more than the rate get through (the production smoke test saw 13 answers for a
limit of 10, eight requests at a time on two gunicorn workers). Counting in fixed windows with an
atomic increment closes that, but lets twice the rate through across a window's edge (the smoke
test then saw 14 answers in 0.15 s, as a minute turned).

So the times are kept, trimmed, counted and added to in one atomic step: with a Redis cache
(`CACHE_URL=redis://…`, every web process sharing it) by one Lua script on a sorted set per
credential; with an in-process cache (locmem: one process, as in development and the tests) under
a lock.
"""

import threading
import uuid

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

# KEYS[1]: the credential's sorted set of request times (ms). ARGV: now (ms), the window (ms),
# the limit, the mode, a unique member. Modes: `take` adds the request if under the limit,
# `peek` only looks, `add` adds it whatever the count. Returns 0 when (it would be) allowed,
# else the milliseconds until it would be.
_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local mode, member = ARGV[4], ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if mode == 'add' or (mode == 'take' and count < limit) then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return 0
end
if count < limit then
  return 0
end
local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return tonumber(freeing[2]) + window - now
"""


class RequestTimes:
    """The times of one key's requests within the window, in the default cache."""

    _lock = threading.Lock()

    def __init__(self, cache):
        # DRF's throttles hold `django.core.cache.cache`, a proxy: the backend behind it decides.
        self.cache = caches[DEFAULT_CACHE_ALIAS] if cache is default_cache else cache

    def take(self, key: str, *, limit: int, window: float, now: float) -> float:
        """Records a request if fewer than `limit` fell in the last `window` seconds: 0.0; else
        the seconds until one more would be allowed, and nothing recorded."""
        return self._run(key, limit=limit, window=window, now=now, mode="take")

    def peek(self, key: str, *, limit: int, window: float, now: float) -> float:
        """What `take` would answer, recording nothing."""
        return self._run(key, limit=limit, window=window, now=now, mode="peek")

    def add(self, key: str, *, window: float, now: float) -> None:
        """Records an event whatever the count (a failed credential: counted, never refused)."""
        self._run(key, limit=0, window=window, now=now, mode="add")

    def _run(self, key: str, *, limit: int, window: float, now: float, mode: str) -> float:
        now_ms, window_ms = round(now * 1000), round(window * 1000)
        if isinstance(self.cache, RedisCache):
            # Django's Redis backend offers no public way to its client (redis-py).
            client = self.cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
            script = client.register_script(_SLIDING_WINDOW_LUA)
            waiting = script(
                keys=[self.cache.make_and_validate_key(key)],
                args=[now_ms, window_ms, limit, mode, f"{now_ms}:{uuid.uuid4().hex}"],
            )
            return int(waiting) / 1000
        with self._lock:
            times = [t for t in self.cache.get(key, []) if t > now_ms - window_ms]
            if mode == "add" or (mode == "take" and len(times) < limit):
                self.cache.set(key, sorted([*times, now_ms]), window)
                return 0.0
            self.cache.set(key, times, window)
            if len(times) < limit:
                return 0.0
            return (times[len(times) - limit] + window_ms - now_ms) / 1000


class SlidingWindowThrottle(SimpleRateThrottle):
    """A DRF throttle counted by `RequestTimes`: never more than the rate in any window."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.waiting = RequestTimes(self.cache).take(
            self.key, limit=self.num_requests, window=self.duration, now=self.timer()
        )
        return self.waiting == 0

    def wait(self):
        return self.waiting


class UserSlidingWindowThrottle(SlidingWindowThrottle, UserRateThrottle):
    """Requests per credential (its user)."""
