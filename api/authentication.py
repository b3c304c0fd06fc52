"""The API's credentials: django-rest-knox tokens (stored as a SHA-512 digest, never in clear;
each with an expiry, `API_TOKEN_DAYS`; revoked by deleting it in the admin or with
`manage.py api_token --revoke`), and failed credentials throttled per client address.

A wrong or expired token is answered 401; after `API_FAILED_AUTH_RATE` failures from one address
every request from it is answered 429 until the window passes, whatever token it carries, so
tokens cannot be guessed by trying."""

from django.conf import settings
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from api.throttling import RequestTimes


class FailedCredentialsThrottle(SimpleRateThrottle):
    """Failed credentials per client address, in a sliding window (`api.throttling`)."""

    scope = "failed_credentials"
    # Set from the rate by SimpleRateThrottle.__init__ (the stubs leave them out).
    num_requests: int
    duration: int

    def get_rate(self):
        return settings.API_FAILED_AUTH_RATE

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def blocked(self, request) -> bool:
        self.waiting = RequestTimes(self.cache).peek(
            self.get_cache_key(request),
            limit=self.num_requests,
            window=self.duration,
            now=self.timer(),
        )
        return self.waiting > 0

    def wait(self):
        return self.waiting

    def record_failure(self, request) -> None:
        RequestTimes(self.cache).add(
            self.get_cache_key(request), window=self.duration, now=self.timer()
        )


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
