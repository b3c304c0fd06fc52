"""The health endpoint for the load balancer (`/health/`, django-health-check).

It answers 200 when the database, the shared cache and the Celery broker all answer, else 500
with the failing part named (`?format=json`, or `Accept: application/json`, for a machine). It
needs no login, reads no business data and is exempt from the HTTPS redirect, so a load balancer
can probe each web process directly over plain HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime

from celery import current_app as app
from django.conf import settings

# django-health-check ships no type information (no stubs, no py.typed marker).
from health_check.base import HealthCheck  # type: ignore[import-untyped]
from health_check.checks import Cache, Database  # type: ignore[import-untyped]
from health_check.exceptions import ServiceUnavailable  # type: ignore[import-untyped]
from health_check.views import HealthCheckView  # type: ignore[import-untyped]


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection. Without a broker (tasks run in the web process)
    there is nothing to reach, which is healthy."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        if not settings.CELERY_BROKER_URL:
            return
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
                # The Redis transport reaches the server when its first channel opens.
                connection.default_channel  # noqa: B018
        except Exception as error:
            raise ServiceUnavailable(f"broker unreachable ({type(error).__name__})") from error

    def __repr__(self):
        return "Broker"


class HealthView(HealthCheckView):
    checks = (Database, Cache, Broker)
