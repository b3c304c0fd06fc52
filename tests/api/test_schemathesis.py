"""schemathesis against the served schema (/api/schema/), through Django's WSGI application: no
request it generates makes a server error or a response that breaks the schema. Bounded: a few
examples per operation, so it runs in `make test`."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from replenish.departments import CITY_FRONT_ENDS, CORE_SYSTEM, FINANCE
from replenish.services.records import paid_months_batch_make
from tests.factories import SYSTEM, department_user

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def api_schema(db, settings):
    from config.wsgi import application

    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # As Django's test client does: a request must not close the test's database connection
    # (on PostgreSQL it holds the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(one):
    """A unit with a history (notices, agreements, arrivals, messages) and the finance system."""
    finance = department_user(FINANCE, "finance-system")
    core = department_user(CORE_SYSTEM, "core-system")
    front_end = department_user(CITY_FRONT_ENDS, "wechat-city-service")
    paid_months_batch_make(actor=SYSTEM)
    return {
        "unit": AuthToken.objects.create(user=one.user)[1],
        "finance": AuthToken.objects.create(user=finance)[1],
        "core": AuthToken.objects.create(user=core)[1],
        "front_end": AuthToken.objects.create(user=front_end)[1],
    }


def credential(path: str) -> str:
    for prefix, name in (
        ("/api/finance/", "finance"),
        ("/api/core/", "core"),
        ("/api/person/", "front_end"),
    ):
        if path.startswith(prefix):
            return name
    return "unit"


def test_the_api_keeps_to_its_schema(api_schema, tokens):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        headers = {"Authorization": f"Token {tokens[credential(operation.path)]}"}

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            cache.clear()  # the rate limits are not under test here
            case.call_and_validate(
                headers=headers,  # noqa: B023  (run is called before the loop goes on)
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        run()
