"""Admin screens of the write-off: the applications with their documents, recording one for a
liquidation group, and the actions of each department (collection accepts or returns, audit
approves or rejects, with a reason). Every button calls a service."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ReasonForm,
    _audit_trail,
    case_form_view,
    form_action,
    run_each,
)
from replenish.documents_serving import document_url
from replenish.models import (
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
        # Through the view that checks who asks (the stored name says nothing about the file).
        url = document_url("writeoff-document", doc)
        return format_html('<a href="{}" target="_blank">{}</a>', url, doc.get_kind_display())


class WriteOffInline(ReadOnlyInline):
    """The case's write-off applications, on the case page."""

    model = WriteOffApplication
    show_change_link = True
    fields = ["writeoff_no", "applicant", "state", "submitted_at", "principal", "late_fee"]
    readonly_fields = fields

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

        def submit(case, data):
            uploads = [
                Upload(kind=kind, file=data[kind])
                for kind in WriteOffDocumentKind.values
                if data.get(kind)
            ]
            application = writeoff_submit(
                case_id=case.pk, documents=uploads, note=data["note"], actor=request.user
            )
            return _("Write-off application %(no)s recorded for case %(case)s.") % {
                "no": application.writeoff_no,
                "case": case.case_no,
            }

        return case_form_view(
            self,
            request,
            make_form=lambda: ApplicationForm(request.POST or None, request.FILES or None),
            title=_("Record a liquidation group's write-off application"),
            submit=submit,
            multipart=True,
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
