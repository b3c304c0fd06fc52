"""Corrections of imported lines (issue 13, rule 4): the list with approve and reject, recording
one from a line's page ("Correct" on the case page's lines), an upload of many (the
`import_corrections` format). Every action calls a service of replenish.services.corrections."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from kernel.csvfiles import FileRejected
from replenish.models import ArrearsLine, CorrectionState, LineCorrection
from replenish.services.corrections import (
    correction_approve,
    correction_record,
    correction_reject,
    corrections_import,
    line_amounts,
)


class CorrectionForm(forms.Form):
    employer_amount = forms.DecimalField(
        label=_("corrected employer portion"), min_value=Decimal("0"), decimal_places=2
    )
    employee_amount = forms.DecimalField(
        label=_("corrected employee portion"), min_value=Decimal("0"), decimal_places=2
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))
    document_ref = forms.CharField(label=_("document reference"), max_length=100)


class CorrectionsFileForm(forms.Form):
    file = forms.FileField(label=_("corrections file (CSV, UTF-8)"))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("reason of the decision"))


def _may_correct(request) -> None:
    if not request.user.has_perm("replenish.correct_line"):
        raise PermissionDenied


@admin.register(LineCorrection)
class LineCorrectionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "case",
        "line",
        "employer_before",
        "employee_before",
        "employer_amount",
        "employee_amount",
        "state",
        "recorded_label",
        "recorded_at",
        "decided_by",
    ]
    list_filter = ["state"]
    list_select_related = ["case", "line", "decided_by"]
    readonly_fields = [f.name for f in LineCorrection._meta.fields]
    actions = ["approve_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "record/<int:line_id>/",
                self.admin_site.admin_view(self.record_view),
                name="replenish_linecorrection_record",
            ),
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="replenish_linecorrection_upload",
            ),
            path(
                "<int:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="replenish_linecorrection_reject",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, form, title, *, multipart=False):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "multipart": multipart,
        }
        return TemplateResponse(request, "admin/replenish/form_page.html", context)

    def record_view(self, request, line_id: int):
        _may_correct(request)
        line = ArrearsLine.objects.select_related("case", "person").get(pk=line_id)
        employer, employee = line_amounts(line)
        form = CorrectionForm(
            request.POST or None,
            initial={"employer_amount": employer, "employee_amount": employee},
        )
        title = _("Correct the line of %(person)s for %(period)s (case %(case)s)") % {
            "person": line.person.name,
            "period": line.period,
            "case": line.case.case_no,
        }
        if request.method == "POST" and form.is_valid():
            try:
                correction_record(line_id=line.pk, actor=request.user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc.messages if hasattr(exc, "messages") else str(exc))
            else:
                self.message_user(
                    request,
                    _("Correction recorded: it takes effect when a second collection user "
                      "approves it."),
                    messages.SUCCESS,
                )  # fmt: skip
                return redirect("admin:replenish_linecorrection_changelist")
        return self._page(request, form, title)

    def upload_view(self, request):
        _may_correct(request)
        form = CorrectionsFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = corrections_import(file=upload, file_name=upload.name, actor=request.user)
            except FileRejected as rejected:
                for error in rejected.errors:
                    form.add_error(None, str(error))
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("%(count)s correction(s) recorded, waiting for a second collection user's "
                      "approval.") % {"count": len(result.corrections)},
                    messages.SUCCESS,
                )  # fmt: skip
                return redirect("admin:replenish_linecorrection_changelist")
        return self._page(request, form, _("Upload corrections"), multipart=True)

    def reject_view(self, request, pk: int):
        _may_correct(request)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                correction_reject(
                    correction_id=pk, reason=form.cleaned_data["reason"], actor=request.user
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc.messages if hasattr(exc, "messages") else str(exc))
            else:
                self.message_user(request, _("Correction rejected."), messages.SUCCESS)
                return redirect("admin:replenish_linecorrection_changelist")
        return self._page(request, form, _("Reject correction %(number)s") % {"number": pk})

    @admin.action(description=_("Approve the selected corrections (they take effect)"))
    def approve_selected(self, request, queryset):
        for correction in queryset.filter(state=CorrectionState.RECORDED).order_by("pk"):
            try:
                correction_approve(correction_id=correction.pk, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                message = " ".join(exc.messages) if hasattr(exc, "messages") else str(exc)
                self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Correction %(number)s approved: it has taken effect.")
                    % {"number": correction.pk},
                    messages.SUCCESS,
                )
