"""A liquidation group's write-off applications in the portal, with the way out of a returned
one: withdraw it (the case returns to the state it came from) — or complete and resubmit it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.views import member_required
from replenish.models import WriteOffApplication
from replenish.services.writeoff import writeoff_withdraw


def _applications(member):
    if member.counterparty_id is None:
        raise Http404
    return WriteOffApplication.objects.filter(applicant_id=member.counterparty_id).select_related(
        "case"
    )


@member_required(unit_only=False)
def writeoff_list(request):
    applications = _applications(request.member).order_by("-submitted_at", "-pk")
    return render(
        request,
        "portal/writeoffs.html",
        {"counterparty": request.member.counterparty, "applications": applications},
    )


@require_POST
@member_required(unit_only=False)
def writeoff_withdraw_view(request, pk: int):
    application = get_object_or_404(_applications(request.member), pk=pk)
    try:
        writeoff_withdraw(
            application_id=application.pk,
            reason=request.POST.get("reason", "")[:500],
            actor=request.user,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("Write-off application %(number)s withdrawn; case %(case)s owes as before.")
            % {"number": application.writeoff_no, "case": application.case.case_no},
        )
    return HttpResponseRedirect(reverse("portal:writeoffs"))
