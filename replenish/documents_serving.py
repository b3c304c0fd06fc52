"""Stored documents served through one view that checks who asks: nothing under MEDIA_ROOT is
served by URL alone (the proxy must not serve MEDIA_ROOT; README, "Documents").

A kind of document is registered once (`document_kind_register`): the model and its file field,
the permission staff need to read it (the departments' view permission of that model), and,
where a portal user may read its own, the rows a membership may read
(`document_member_scope_register`, called by the app that knows the portal's scopes). Staff
without the permission and members outside the scope get a 404, as for a document that does not
exist: the view says nothing about documents they may not read.

The file is streamed by Django, or, with settings.DOCUMENTS_SERVED_BY set to `x-accel-redirect`
(nginx) or `x-sendfile` (Apache, lighttpd), handed to the proxy by a header after the check.
"""

import dataclasses
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from replenish.models import Agreement, WriteOffDocument
from units.models import PortalMembership, UnitEventAttachment
from units.portal import membership_of

MemberScope = Callable[[PortalMembership], QuerySet]
M = TypeVar("M", bound=Model)


@dataclass
class DocumentKind(Generic[M]):
    name: str  # the URL's segment
    model: type[M]
    field: str
    staff_permission: str
    member_scope: MemberScope | None = None
    label: Callable[[M], str] = dataclasses.field(default=lambda obj: f"document-{obj.pk}")


KINDS: dict[str, DocumentKind[Any]] = {}


def document_kind_register(
    name: str,
    *,
    model: type[M],
    field: str,
    staff_permission: str,
    label: Callable[[M], str] | None = None,
) -> DocumentKind[M]:
    kind = DocumentKind(name, model, field, staff_permission)
    if label is not None:
        kind.label = label
    KINDS[name] = kind
    return kind


def document_member_scope_register(name: str, scope: MemberScope) -> None:
    """`scope(membership)`: the rows of the kind this portal membership may read."""
    KINDS[name].member_scope = scope


def document_url(name: str, obj: Model) -> str:
    return reverse("document", args=[name, obj.pk])


def _may_read(request: HttpRequest, kind: DocumentKind[Any], obj: Model) -> bool:
    user = request.user
    if user.is_staff and user.has_perm(kind.staff_permission):
        return True
    member = membership_of(user)
    if member is None or kind.member_scope is None:
        return False
    return kind.member_scope(member).filter(pk=obj.pk).exists()


def _response(stored, download_name: str) -> HttpResponseBase:
    served_by = settings.DOCUMENTS_SERVED_BY
    content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    response: HttpResponseBase
    if served_by == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = (
            settings.DOCUMENTS_INTERNAL_URL.rstrip("/") + "/" + (stored.name)
        )
    elif served_by == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = stored.path
    else:
        response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{download_name}"'
    # The browser shows the document as what its checked type says, and runs nothing in it.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@never_cache
@xframe_options_sameorigin  # shown inside the back office's own pages (the write-off decision)
def document_view(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    document_kind = KINDS.get(kind)
    if document_kind is None:
        raise Http404
    obj = get_object_or_404(document_kind.model, pk=pk)
    stored = getattr(obj, document_kind.field)
    if not stored or not _may_read(request, document_kind, obj):
        raise Http404
    if not stored.storage.exists(stored.name):
        raise Http404
    extension = PurePath(stored.name).suffix.lower()
    return _response(stored, f"{document_kind.label(obj)}{extension}")


def register_documents() -> None:
    """The documents of the arrears workflow and of the units' events (staff only; the portal
    adds what its members may read, portal.apps)."""
    document_kind_register(
        "writeoff-document",
        model=WriteOffDocument,
        field="file",
        staff_permission="replenish.view_writeoffapplication",
        label=lambda d: f"{d.application.writeoff_no}-{d.kind}",
    )
    document_kind_register(
        "agreement-scan",
        model=Agreement,
        field="scan",
        staff_permission="replenish.view_agreement",
        label=lambda a: f"{a.number}-scan",
    )
    document_kind_register(
        "unit-event-attachment",
        model=UnitEventAttachment,
        field="file",
        staff_permission="units.view_unitevent",
        label=lambda a: f"event-{a.event_id}-{a.pk}",
    )
