"""The buttons of a case's page: the transitions the current user may make now, each through a
confirmation page that shows what will change and then calls the service (never the bare
transition).

`CASE_ACTIONS` maps a declared transition of `ArrearsCase` to the admin view that performs it; a
later module (write-off applications) adds its own entries. A transition is offered when
django-fsm says the user may make it from the case's state (its `permission`), so the buttons
follow the permissions of the user's department.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from backoffice import dashboard, statistics
from backoffice.admin.case_list import OVERDUE_BUCKETS
from notices.services import case_issue_notice
from replenish.models import ArrearsCase, CaseState
from replenish.selectors import case_owed


@dataclass(frozen=True)
class CaseAction:
    transition: str
    url_name: str  # admin URL name taking the case's pk
    label: str | Promise


CASE_ACTIONS: dict[str, CaseAction] = {}


def register_case_action(action: CaseAction) -> CaseAction:
    CASE_ACTIONS[action.transition] = action
    return action


register_case_action(
    CaseAction("issue_notice", "admin:replenish_arrearscase_issue_notice", _("Issue a notice"))
)


def case_transition_buttons(request, case: ArrearsCase) -> list[tuple[str, str]]:
    buttons = []
    for transition in case.get_available_user_state_transitions(request.user):
        action = CASE_ACTIONS.get(transition.name)
        if action is not None:
            buttons.append((reverse(action.url_name, args=[case.pk]), action.label))
    return buttons


def refuse(modeladmin, request, message, case: ArrearsCase | None = None):
    """A refusal: a message and back to the case (or the list), never a crash."""
    modeladmin.message_user(request, message, messages.ERROR)
    if case is not None and modeladmin.has_view_permission(request, case):
        return HttpResponseRedirect(reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    return HttpResponseRedirect(reverse("admin:index"))


def issue_notice_view(modeladmin, request, pk: int):
    """Confirm, then issue a replenishment notice (`notices.services.case_issue_notice`)."""

    case = get_object_or_404(ArrearsCase.objects.select_related("unit"), pk=pk)
    if not request.user.has_perm("replenish.issue_notice"):
        return refuse(modeladmin, request, _("Your department may not issue notices."), case=case)
    if request.method == "POST":
        try:
            with transaction.atomic():
                notice = case_issue_notice(case_id=case.pk, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            return refuse(modeladmin, request, text, case=case)
        modeladmin.message_user(
            request,
            _("Notice %(number)s issued for case %(case)s.")
            % {"number": notice.number, "case": case.case_no},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    today = timezone.localdate()
    owed = case_owed(case.pk, as_of=today)
    changes = [
        (_("state"), case.get_state_display(), CaseState(CaseState.NOTIFIED).label),
        (_("principal owed"), owed.principal, owed.principal),
        (_("late fee as of today"), owed.late_fee, owed.late_fee),
    ]
    return TemplateResponse(
        request,
        "admin/replenish/arrearscase/confirm_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "case": case,
            "title": _("Issue a notice for case %(case)s") % {"case": case.case_no},
            "changes": changes,
            "explanation": _(
                "A replenishment notice is issued with today's amounts; the unit must pay within "
                "the time limit counted from its delivery."
            ),
            "confirm_label": _("Issue the notice"),
        },
    )


def statistics_view(modeladmin, request):
    """The statistics for the agency's superiors, by region and month of a year, with charts; as
    an Excel workbook with `?format=xlsx`."""
    if not request.user.has_perm("replenish.view_arrearscase"):
        return refuse(modeladmin, request, _("Your department may not see the statistics."))
    today = timezone.localdate()
    form = StatisticsForm(request.GET or None, initial={"year": today.year})
    if form.is_bound and not form.is_valid():
        year, region = today.year, ""
    else:
        data = form.cleaned_data if form.is_bound else {}
        year, region = data.get("year") or today.year, data.get("region") or ""
    stats = statistics.statistics(year, today, region)
    if request.GET.get("format") == "xlsx" and form.is_bound and form.is_valid():
        response = HttpResponse(
            statistics.workbook(stats),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"statistics-{year}{'-' + region if region else ''}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return TemplateResponse(
        request,
        "admin/replenish/statistics.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": _("Statistics"),
            "form": form,
            "stats": stats,
            "months": stats.totals_by_month(),
            "year_total": stats.year_total(),
            "by_region": stats.year_by_region(),
            "buckets": [(key, label) for key, label, _low, _high in OVERDUE_BUCKETS],
            "chart_by_month": mark_safe(statistics.chart_by_month(stats)),
            "chart_outstanding": mark_safe(statistics.chart_outstanding(stats)),
            "excel_query": urlencode({"year": year, "region": region, "format": "xlsx"}),
        },
    )


class StatisticsForm(forms.Form):
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    region = forms.CharField(
        label=_("region code"),
        required=False,
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("A region code is six digits."))],
    )


def dashboard_view(modeladmin, request):
    """Totals owed by state, aging, money arrived and written off by month: numbers and bars."""
    if not request.user.has_perm("replenish.view_arrearscase"):
        return refuse(modeladmin, request, _("Your department may not see the dashboard."))
    today = timezone.localdate()
    months = dashboard.with_bars(dashboard.by_month(today), "arrived", "written_off")
    return TemplateResponse(
        request,
        "admin/replenish/dashboard.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": _("Dashboard"),
            "today": today,
            "states": dashboard.with_bars(dashboard.owed_by_state(today), "owed"),
            "aging": dashboard.with_bars(dashboard.aging(today), "owed"),
            "months": months,
            "this_month": months[-1],
        },
    )
