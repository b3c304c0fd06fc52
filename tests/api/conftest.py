import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from replenish.departments import FINANCE
from tests.factories import department_user
from tests.portal.conftest import one, two  # noqa: F401  (the two units' worlds)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def client_with(user) -> APIClient:
    client = APIClient()
    _token, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def finance(db):
    """The finance system's service credential: a user of the finance department."""
    return client_with(department_user(FINANCE, "finance-system"))
