"""The API's credentials: django-rest-knox tokens (stored as a SHA-512 digest, never in clear;
each with an expiry, `API_TOKEN_DAYS`; revoked by deleting it in the admin or with
`manage.py api_token --revoke`), and failed credentials throttled per client address.

A wrong or expired token is answered 401; after `API_FAILED_AUTH_RATE` failures from one address
every request from it is answered 429 until the window passes, whatever token it carries, so
tokens cannot be guessed by trying."""

from django.conf import settings
from django.core.cache import cache
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle


class FailedCredentialsThrottle(SimpleRateThrottle):
    scope = "failed_credentials"
    # Set from the rate by SimpleRateThrottle.__init__ (the stubs leave them out).
    num_requests: int
    duration: int

    def get_rate(self):
        return settings.API_FAILED_AUTH_RATE

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def failures(self, request) -> list:
        return cache.get(self.get_cache_key(request), [])

    def blocked(self, request) -> bool:
        self.key = self.get_cache_key(request)
        self.history = cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record_failure(self, request) -> None:
        self.blocked(request)
        self.history.insert(0, self.now)
        cache.set(self.key, self.history, self.duration)


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        throttle = FailedCredentialsThrottle()
        if throttle.blocked(request):
            raise exceptions.Throttled(wait=throttle.wait())
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise
