"""No unit sees another's objects: every portal URL (enumerated from the URL configuration, so a
new page cannot be forgotten) asked by a user of unit 2 for an object of unit 1 answers 404, and
the pages without an object show nothing of unit 1."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import UserFactory
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db

# The object of unit 1 that each URL with a parameter names (attribute of the world's UnitWorld).
OBJECT_OF = {
    "portal:notice": "notice",
    "portal:notice_document": "notice",
    "portal:notice_pdf": "notice",
    "portal:notice_acknowledge": "notice",
    "portal:agreement": "agreement",
    "portal:agreement_pdf": "agreement",
    "portal:agreement_scan": "agreement",
    "portal:message": "message",
    "portal:refund_withdraw": "refund",
    # a counterparty's page: a unit's user gets 404 whatever the number
    "portal:writeoff_withdraw": "refund",
}
# Pages that are not the unit's data (signing in and out, the password).
NOT_UNIT_DATA = {
    "portal:login",
    "portal:logout",
    "portal:password_change",
    "portal:password_change_done",
    "portal:password_reset",
    "portal:password_reset_confirm",
}
POST_ONLY = {
    "portal:notice_acknowledge",
    "portal:logout",
    "portal:refund_withdraw",
    "portal:writeoff_withdraw",
}
# Pages of a counterparty only (a unit's user gets 404 there): tests/portal/test_writeoff_apply.py.
COUNTERPARTY_ONLY = {"portal:writeoff_apply", "portal:writeoffs", "portal:writeoff_withdraw"}


def patterns(namespace: str) -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every URL of a namespace."""
    found = []

    def walk(entries, prefix, ns):
        for entry in entries:
            if isinstance(entry, URLResolver):
                inner = ns if entry.namespace is None else entry.namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and ns == namespace:
                found.append(
                    (
                        f"{ns}:{entry.name}",
                        prefix + str(entry.pattern),
                        list(entry.pattern.converters),
                    )
                )

    walk(get_resolver().url_patterns, "/", None)
    return found


def url_of(route: str, params: list[str], pk: int) -> str:
    for param in params:
        route = route.replace(f"<int:{param}>", str(pk))
    return route


def test_the_portal_has_the_urls_this_test_knows():
    # every URL with a parameter has its object here; the others are listed pages
    names = {name: params for name, _route, params in patterns("portal")}
    assert {name for name, params in names.items() if params} == set(OBJECT_OF)
    assert len(names) >= 17


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_unit_asking_for_another_units_object_gets_404(one, two, method):
    # given the user of unit 2, signed in (with its CSRF token checked as in production)
    client = Client()
    client.force_login(two.user)
    for name, route, params in patterns("portal"):
        if not params:
            continue
        # when it asks for unit 1's object
        target = getattr(one, OBJECT_OF[name])
        response = getattr(client, method)(url_of(route, params, target.pk))
        # then it is not found (a POST-only URL answers a GET with 405 before looking)
        expected = 405 if method == "get" and name in POST_ONLY else 404
        assert response.status_code == expected, f"{method} {name}"
    # and nothing of unit 1 changed
    one.notice.refresh_from_db()
    one.message.refresh_from_db()
    assert (one.notice.state, one.message.read_at) == ("issued", None)


def test_the_pages_without_an_object_show_nothing_of_another_unit(one, two):
    client = Client()
    client.force_login(two.user)
    for name, route, params in patterns("portal"):
        if params or name in POST_ONLY:
            continue
        html = client.get(route).content.decode()
        for secret in (
            one.case.case_no,
            one.case.unit.uscc,
            one.case.unit.name,
            one.notice.number,
            one.agreement.number,
            "BANK-1-0",
            "职工100",
            sample_id_number(100, region_code="110101")[-4:] + "<",
        ):
            assert secret not in html, f"{name} shows {secret}"


def test_every_portal_page_needs_a_portal_member(one):
    # a staff user (no membership) gets 404; an anonymous visitor is sent to sign in
    staff = Client()
    staff.force_login(UserFactory(username="clerk"))
    anonymous = Client()
    for name, route, params in patterns("portal"):
        if name in NOT_UNIT_DATA:
            continue
        target = getattr(one, OBJECT_OF[name]) if params else None
        url = url_of(route, params, target.pk if target else 0)
        method = "post" if name in POST_ONLY else "get"
        assert getattr(staff, method)(url).status_code == 404, name
        response = getattr(anonymous, method)(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (
            302,
            "/portal/login/",
        ), name


def test_a_post_without_the_csrf_token_is_refused(one):
    client = Client(enforce_csrf_checks=True)
    client.force_login(one.user)
    response = client.post(f"/portal/notices/{one.notice.pk}/acknowledge/")
    assert response.status_code == 403
    one.notice.refresh_from_db()
    assert one.notice.state == "issued"
