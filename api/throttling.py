"""Rate limits that hold when many web processes answer one credential at once.

DRF's throttles read a credential's request history from the cache, check it and write it back:
requests arriving together in several web processes all read the same history, and more than
the rate get through (the production smoke test saw 13 answers for a limit of 10 with eight
requests at a time on two gunicorn workers). These count with the cache's atomic increment
(Redis INCR with `CACHE_URL`) in fixed windows as long as the rate's period: never more than
the rate in one window.
"""

from rest_framework.throttling import UserRateThrottle


class AtomicUserRateThrottle(UserRateThrottle):
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's key expired between add and incr
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.window_ends - self.now)
