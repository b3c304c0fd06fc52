"""The client's address behind the agency's reverse proxies.

Behind a proxy every request comes from the proxy's address; counting failed logins by that
address would lock a user name out for everyone after five wrong passwords. Each trusted proxy
appends the address it received the request from to `TRUSTED_PROXY_HEADER`
(`X-Forwarded-For`), so with `TRUSTED_PROXY_COUNT` proxies in front of the application the
client is the entry that many places from the right. Entries further left were written by the
client itself and are never believed.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address the outermost trusted proxy received the request from; `REMOTE_ADDR` when no
    proxy is trusted, or when the header has fewer entries than proxies (the request did not come
    through all of them)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count: int = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = str(request.META.get(settings.TRUSTED_PROXY_HEADER, ""))
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
