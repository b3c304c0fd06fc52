"""The API's edges: every error answer is documented and is JSON (an unknown id or path, a body
too large), failed credentials are throttled, credentials are stored hashed and expire and can
be revoked."""

import io
from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.exceptions import NotFound
from rest_framework.test import APIClient

from tests.api.conftest import client_with
from tests.factories import all_table_counts

pytestmark = pytest.mark.django_db


def test_the_schema_documents_every_error_answer_with_its_body(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "errors"}
    post = schema["paths"]["/api/finance/arrivals/"]["post"]["responses"]
    one = schema["paths"]["/api/unit/notices/{id}/"]["get"]["responses"]
    for code in ("400", "401", "403", "413", "429"):
        assert post[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert {"401", "403", "404", "429"} <= set(one)
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.parametrize(
    "url", ["/api/unit/notices/999999/", "/api/unit/notices/abc/", "/api/nothing/here/"]
)
def test_an_unknown_id_or_path_is_a_json_404(one, url):
    response = client_with(one.user).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": str(NotFound.default_detail), "errors": []}


def test_a_body_of_3_mb_is_a_json_413_and_writes_nothing(finance):
    before = all_table_counts()
    body = b'{"arrival_ref": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    response = finance.generic(
        "POST", "/api/finance/arrivals/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is larger than")
    assert all_table_counts() == before


def test_failed_credentials_are_throttled_per_client_address(one, settings):
    # given a limit of 5 failures a minute
    settings.API_FAILED_AUTH_RATE = "5/min"
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    # when wrong tokens are tried
    codes = [guesser.get("/api/unit/notices/").status_code for _ in range(7)]

    # then after 5 failures the address is answered 429, even with a right token
    assert codes == [401] * 5 + [429] * 2
    assert client_with(one.user).get("/api/unit/notices/").status_code == 429
    other_address = client_with(one.user)
    assert other_address.get("/api/unit/notices/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_credential_is_stored_hashed_expires_and_can_be_revoked(one):
    # given a credential made by the command
    out = io.StringIO()
    call_command("api_token", one.user.username, stdout=out)
    key = out.getvalue().strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/unit/notices/").status_code == 200

    # then only its digest is stored, with an expiry
    stored = AuthToken.objects.get(user=one.user)
    assert key not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert stored.expiry > timezone.now() + timedelta(days=300)

    # when it expires, it is refused
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/unit/notices/").status_code == 401

    # and a revoked one too
    out = io.StringIO()
    call_command("api_token", one.user.username, stdout=out)
    api.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    assert api.get("/api/unit/notices/").status_code == 200
    call_command("api_token", one.user.username, "--revoke", stdout=io.StringIO())
    assert api.get("/api/unit/notices/").status_code == 401
    assert not AuthToken.objects.filter(user=one.user).exists()
