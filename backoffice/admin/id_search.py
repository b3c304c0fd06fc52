"""A search of the case list by citizen ID number never puts the number in a URL (an access log
keeps every URL): the list's search box posts its term; a citizen ID number is kept in the
session under a random token and the list is shown for `?idq=<token>`; any other term is
searched by `?q=` as before."""

import secrets
from urllib.parse import urlencode

from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from units.identifiers import validate_id_number

TOKEN_PARAM = "idq"
SESSION_KEY = "case_id_searches"
KEPT = 20  # the latest searches of the session


def searched_id_number(request) -> str | None:
    """The citizen ID number the list is searched for (`?idq=`), read from the session."""
    token = request.GET.get(TOKEN_PARAM)
    if not token:
        return None
    return request.session.get(SESSION_KEY, {}).get(token)


def as_id_number(term: str) -> str | None:
    """The term as a citizen ID number, or None if it is not one."""
    try:
        return validate_id_number(term) if term else None
    except ValidationError:
        return None


def search_view(modeladmin, request):
    """The search box's POST: to the list for the term, without the number in the address."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    term = request.POST.get("q", "").strip()
    kept = [
        (name, value)
        for name, value in request.POST.items()
        if name not in ("q", TOKEN_PARAM, "csrfmiddlewaretoken")
    ]
    number = as_id_number(term)
    if number:
        token = secrets.token_urlsafe(12)
        searches = dict(list(request.session.get(SESSION_KEY, {}).items())[-(KEPT - 1) :])
        searches[token] = number
        request.session[SESSION_KEY] = searches
        kept.append((TOKEN_PARAM, token))
    elif term:
        kept.append(("q", term))
    url = reverse("admin:replenish_arrearscase_changelist")
    return HttpResponseRedirect(url + (f"?{urlencode(kept)}" if kept else ""))


class IdSearchChangeList(ChangeList):
    """The token is not a filter of the list (the admin would refuse an unknown parameter)."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(TOKEN_PARAM, None)
        return lookup_params
