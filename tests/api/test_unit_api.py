"""The unit's read-only API: its own data, as the portal shows it, with its token only."""

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.permissions import UnitThrottle
from replenish.selectors import case_owed
from tests.api.conftest import client_with
from tests.factories import portal_user
from tests.portal.test_isolation import patterns, url_of
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
OBJECT_OF = {"api:notice": "notice", "api:agreement": "agreement", "api:refund_paid": "refund"}
FINANCE_ONLY = {"api:arrival_post", "api:unmatched", "api:refund_paid"}
# The other service credentials' endpoints (tests/api/test_records_api.py): not a unit's.
SERVICE_ONLY = {"api:paid_months", "api:paid_month_batch", "api:person_months"}
PUBLIC = {"api:schema", "api:docs", "api:redoc", "api:not_found"}


def test_the_balance_is_what_the_case_owes_today(one):
    owed = case_owed(one.case.pk, as_of=timezone.localdate())
    body = client_with(one.user).get("/api/unit/balance/").json()
    assert (body["principal"], body["late_fee"], body["total"]) == (
        str(owed.principal),
        str(owed.late_fee),
        str(owed.total),
    )
    assert body["lines"] == [
        {
            "case_no": one.case.case_no,
            "period": "2025-12",
            "person": "职工100",
            "id_number": "110101********1006",
            "principal": str(owed.principal),
            "late_fee": str(owed.late_fee),
            "fee_runs_from": "2026-03-10",
        }
    ]
    assert sample_id_number(100, region_code="110101") not in str(body)


def test_the_lists_hold_the_units_notices_agreements_payments_arrivals_and_messages(one, two):
    api = client_with(one.user)
    assert [n["number"] for n in api.get("/api/unit/notices/").json()] == [one.notice.number]
    agreements = api.get("/api/unit/agreements/").json()
    assert [a["number"] for a in agreements] == [one.agreement.number]
    assert len(agreements[0]["installments"]) == 3
    assert [p["amount"] for p in api.get("/api/unit/payments/").json()] == ["50.00"]
    assert [a["arrival_ref"] for a in api.get("/api/unit/arrivals/").json()] == ["BANK-1-0"]
    assert [m["notice_id"] for m in api.get("/api/unit/messages/").json()] == [one.notice.pk]


def test_the_api_has_the_urls_this_test_knows():
    names = {name: params for name, _route, params in patterns("api")}
    assert {name for name, params in names.items() if params} - SERVICE_ONLY == set(OBJECT_OF)


def test_a_unit_asking_for_another_units_object_gets_404(one, two):
    api = client_with(two.user)
    for name, route, params in patterns("api"):
        if not params or name in FINANCE_ONLY | SERVICE_ONLY:
            continue  # a unit's credential gets 403 on the service credentials' URLs (below)
        response = api.get(url_of(route, params, getattr(one, OBJECT_OF[name]).pk))
        assert response.status_code == 404, name
        assert response.json() == {"detail": "未找到。", "errors": []}


def test_the_lists_of_a_unit_hold_nothing_of_another(one, two):
    api = client_with(two.user)
    for name, route, params in patterns("api"):
        if params or name in FINANCE_ONLY | SERVICE_ONLY | PUBLIC:
            continue
        text = api.get(route).content.decode()
        for secret in (one.case.case_no, one.notice.number, one.agreement.number, "BANK-1-0"):
            assert secret not in text, f"{name} shows {secret}"


def test_without_a_token_or_with_a_units_token_on_finance_urls_access_is_refused(one):
    for name, route, params in patterns("api"):
        if name in PUBLIC:
            continue
        target = getattr(one, OBJECT_OF[name]).pk if params and name in OBJECT_OF else 1
        url = url_of(route, params, target).replace("<str:refund_no>", "R2026-000001")
        assert APIClient().get(url).status_code == 401, name
    for name in SERVICE_ONLY:
        route, params = next((r, p) for n, r, p in patterns("api") if n == name)
        refused = client_with(one.user).get(url_of(route, params, 1))
        assert refused.status_code in (403, 405), name
    api = client_with(one.user)
    assert api.get("/api/finance/arrivals/unmatched/").status_code == 403
    refused = api.post("/api/finance/arrivals/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This credential is not the finance system's."
    assert api.post(f"/api/finance/refunds/{one.refund.refund_no}/paid/", {}).status_code == 403


def test_a_unit_credential_is_rate_limited(one, monkeypatch):
    # given a limit of 3 requests a minute for a unit
    monkeypatch.setattr(UnitThrottle, "THROTTLE_RATES", {"unit": "3/min"})
    monkeypatch.setattr(UnitThrottle, "timer", lambda self: 60 * 1_000_000 + 30.0)  # mid-minute
    api = client_with(one.user)
    codes = [api.get("/api/unit/notices/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # and another credential (another user of the unit) is counted apart
    other = client_with(portal_user("unit9", unit=one.case.unit))
    assert other.get("/api/unit/notices/").status_code == 200


def test_the_schema_and_its_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/finance/arrivals/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    # Every script and stylesheet is served from here. (Not a search for "cdn": the page holds
    # a random CSRF token, which now and then contains those three letters.)
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs)
    assert sources and not [s for s in sources if re.match(r"(https?:)?//", s)], sources
    redoc = client.get("/api/redoc/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in redoc
