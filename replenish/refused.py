"""A refusal is a page that says why (in the user's language), never a bare "403 Forbidden":
Django calls this view for every PermissionDenied a view raises (`handler403`, replenish/urls.py),
the admin's own (a list of a model the department may not see) included."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponseForbidden
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def permission_denied(request: HttpRequest, exception=None) -> HttpResponseForbidden:
    given = str(exception or "").strip()
    user = getattr(request, "user", None)
    staff = bool(user and user.is_authenticated and user.is_staff)
    if given:
        message = given
    elif staff:
        message = _("Your department may not do this.")
    else:
        message = _("You may not do this.")
    context = {"message": message, "title": _("Not allowed")}
    if staff and request.path.startswith("/admin/"):
        context.update(admin.site.each_context(request))
        template = "replenish/refused.html"
    else:
        template = "replenish/refused_plain.html"
    return HttpResponseForbidden(render_to_string(template, context, request=request))
