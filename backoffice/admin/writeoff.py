"""Admin screens of the write-off: the applications with their documents, recording one for a
liquidation group, and the actions of each department (collection accepts or returns, audit
approves or rejects, with a reason). Every button calls a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin.collection import (
    ReadOnlyAdmin,
    ReasonForm,
    _audit_trail,
    _errors_of,
    form_action,
    run_each,
)
from replenish.models import (
    ArrearsCase,
    WriteOffApplication,
    WriteOffDocument,
    WriteOffDocumentKind,
)
from replenish.services.writeoff import (
    Upload,
    writeoff_accept,
    writeoff_approve,
    writeoff_reject,
    writeoff_return,
    writeoff_submit,
    writeoff_withdraw,
)


class DocumentInline(admin.TabularInline):
    model = WriteOffDocument
    extra = 0
    can_delete = False
    fields = ["kind", "document", "uploaded_at", "uploaded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def document(self, doc):
        return format_html('<a href="{}">{}</a>', doc.file.url, doc.file.name.rsplit("/", 1)[-1])


class WriteOffInline(admin.TabularInline):
    """The case's write-off applications, on the case page."""

    model = WriteOffApplication
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["writeoff_no", "applicant", "state", "submitted_at", "principal", "late_fee"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("replenish.view_arrearscase")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("applicant__unit")


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), max_length=500, required=False, widget=forms.Textarea
    )


class ApplicationForm(forms.Form):
    case_no = forms.CharField(label=_("case number"), max_length=20)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in WriteOffDocumentKind.choices:
            self.fields[kind] = forms.FileField(label=label, required=False)


@admin.register(WriteOffApplication)
class WriteOffApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "writeoff_no",
        "case",
        "applicant",
        "state",
        "submitted_at",
        "accepted_by",
        "approver",
        "principal",
        "late_fee",
    ]
    list_filter = ["state"]
    search_fields = ["=writeoff_no", "=case__case_no"]
    list_select_related = ["case", "applicant__unit", "accepted_by", "approver"]
    show_full_result_count = False
    fields = [
        "writeoff_no",
        "case",
        "applicant",
        "state",
        "submitted_at",
        "submitted_by",
        "note",
        "return_reason",
        "accepted_at",
        "accepted_by",
        "first_approver",
        "approver",
        "decided_on",
        "decision_reason",
        "principal",
        "late_fee",
        "posted_at",
        "audit_trail",
    ]
    readonly_fields = fields
    inlines = [DocumentInline]
    actions = ["accept", "return_for_documents", "withdraw", "approve", "reject"]

    def has_add_permission(self, request):
        return request.user.has_perm("replenish.add_writeoffapplication")

    def has_examine_permission(self, request):
        return request.user.has_perm("replenish.examine_writeoff")

    def has_decide_permission(self, request):
        return request.user.has_perm("replenish.decide_writeoff")

    @admin.display(description=_("audit trail"))
    def audit_trail(self, application):
        return _audit_trail("writeoffapplication", application.pk)

    def add_view(self, request, form_url="", extra_context=None):
        """Recording the liquidation group's application: the form calls `writeoff_submit`."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApplicationForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            case = ArrearsCase.objects.filter(case_no=data["case_no"].strip()).first()
            if case is None:
                form.add_error("case_no", _("There is no such case."))
            else:
                uploads = [
                    Upload(kind=kind, file=data[kind])
                    for kind in WriteOffDocumentKind.values
                    if data.get(kind)
                ]
                try:
                    application = writeoff_submit(
                        case_id=case.pk, documents=uploads, note=data["note"], actor=request.user
                    )
                except (ValidationError, PermissionDenied) as exc:
                    form.add_error(None, _errors_of(exc))
                else:
                    self.message_user(
                        request,
                        _("Write-off application %(no)s recorded for case %(case)s.")
                        % {"no": application.writeoff_no, "case": case.case_no},
                        messages.SUCCESS,
                    )
                    return redirect("admin:replenish_writeoffapplication_changelist")
        return TemplateResponse(
            request,
            "admin/replenish/form_page.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record a liquidation group's write-off application"),
                "form": form,
                "multipart": True,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Accept: documents complete, send to audit"), permissions=["examine"]
    )
    def accept(self, request, queryset):
        run_each(
            self,
            request,
            queryset,
            lambda a: writeoff_accept(application_id=a.pk, actor=request.user),
        )

    @admin.action(
        description=_("Return for missing documents (with a reason)"), permissions=["examine"]
    )
    def return_for_documents(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Which documents are missing?"),
            apply=lambda a, data: writeoff_return(
                application_id=a.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(
        description=_("Withdraw a returned application (the case returns)"),
        permissions=["examine"],
    )
    def withdraw(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=OptionalReasonForm,
            title=_("Why are these applications withdrawn?"),
            apply=lambda a, data: writeoff_withdraw(
                application_id=a.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Approve (with a reason)"), permissions=["decide"])
    def approve(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Why are these write-offs approved?"),
            apply=lambda a, data: writeoff_approve(
                application_id=a.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Reject (with a reason)"), permissions=["decide"])
    def reject(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Why are these write-offs rejected?"),
            apply=lambda a, data: writeoff_reject(
                application_id=a.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip
