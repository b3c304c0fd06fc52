"""Admin screens of the write-off: the applications with their documents, recording one for a
liquidation group, and the actions of each department (collection accepts or returns, audit
approves or rejects, with a reason). Every button calls a service."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
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
from backoffice.admin.shown import yuan
from kernel.forms import form_errors_add
from replenish.documents_serving import document_url
from replenish.models import (
    ArrearsCase,
    WriteOffApplication,
    WriteOffDocument,
    WriteOffDocumentKind,
    WriteOffState,
)
from replenish.selectors import case_owed
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


DECIDABLE = (WriteOffState.ACCEPTED, WriteOffState.FIRST_APPROVED)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("approve")), ("reject", _("reject"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea)


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
    change_form_template = "admin/replenish/writeoffapplication/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="replenish_writeoffapplication_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.get_object(request, object_id)
        decidable = (
            application is not None
            and application.state in DECIDABLE
            and self.has_decide_permission(request)
        )
        extra_context = {**(extra_context or {}), "decidable": decidable}
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk: int):
        """Audit decides one application on a page with its facts: what it would write off
        today, its five documents to open in the page, its examination history."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        application = get_object_or_404(
            WriteOffApplication.objects.select_related(
                "case__unit", "case__obligor", "applicant", "accepted_by", "first_approver"
            ),
            pk=pk,
        )
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                message = self._decide(request, application, form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                form_errors_add(
                    form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc))
                )
            else:
                self.message_user(request, message, messages.SUCCESS)
                return redirect("admin:replenish_writeoffapplication_change", application.pk)
        today = timezone.localdate()
        owed = case_owed(application.case_id, as_of=today)
        documents = {doc.kind: doc for doc in application.documents.all()}
        return TemplateResponse(
            request,
            "admin/replenish/writeoffapplication/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Decide write-off application %(no)s") % {"no": application.writeoff_no},
                "application": application,
                "today": today,
                "owed": owed,
                "owed_shown": {
                    "principal": yuan(owed.principal),
                    "late_fee": yuan(owed.late_fee),
                    "total": yuan(owed.total),
                },
                "dual_above": yuan(settings.WRITEOFF_DUAL_APPROVAL_ABOVE),
                "needs_two": owed.total > settings.WRITEOFF_DUAL_APPROVAL_ABOVE,
                "documents": [
                    (
                        kind,
                        label,
                        documents.get(kind),
                        document_url("writeoff-document", documents[kind])
                        if kind in documents
                        else "",
                    )
                    for kind, label in WriteOffDocumentKind.choices
                ],
                "history": _audit_trail("writeoffapplication", application.pk),
                "form": form,
                "decidable": application.state in DECIDABLE,
            },
        )

    def _decide(self, request, application, data) -> str:
        if data["decision"] == "reject":
            done = writeoff_reject(
                application_id=application.pk, reason=data["reason"], actor=request.user
            )
            case = ArrearsCase.objects.get(pk=done.case_id)
            return _(
                "Write-off %(no)s rejected: case %(case)s is %(state)s again and owes "
                "%(owed)s yuan today."
            ) % {
                "no": done.writeoff_no,
                "case": case.case_no,
                "state": case.get_state_display(),
                "owed": yuan(case_owed(case.pk, as_of=timezone.localdate()).total),
            }
        done = writeoff_approve(
            application_id=application.pk, reason=data["reason"], actor=request.user
        )
        if done.state == WriteOffState.FIRST_APPROVED:
            return _(
                "Write-off %(no)s approved once: above %(limit)s yuan, a second auditor "
                "approves it too."
            ) % {"no": done.writeoff_no, "limit": yuan(settings.WRITEOFF_DUAL_APPROVAL_ABOVE)}
        return _(
            "Write-off %(no)s approved: %(total)s yuan (principal %(principal)s, late fee "
            "%(fee)s) is written off when collection posts the adjustment."
        ) % {
            "no": done.writeoff_no,
            "total": yuan(done.principal + done.late_fee),
            "principal": yuan(done.principal),
            "fee": yuan(done.late_fee),
        }

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
