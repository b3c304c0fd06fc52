"""Admin screens of enforcement: the queue of overdue cases without a dossier, the dossiers with
the facts a clerk decides on (what is owed now, the deadlines, the balances found, who proposed
what), their documents (HTML, PDF, recording their service) and one action per step. Every
button calls a service."""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import (
    ReadOnlyAdmin,
    ReasonForm,
    _audit_trail,
    _errors_of,
    form_action,
    run_each,
)
from backoffice.queues import Queue
from backoffice.queues import register as register_queue
from enforcement.models import (
    BankAccount,
    CloseReason,
    Dossier,
    EnforcementDocument,
    FineReferral,
    Guarantee,
    GuaranteeKind,
    ServiceChannel,
)
from enforcement.selectors import overdue_without_dossier
from enforcement.services import (
    BankReply,
    GuaranteeGiven,
    balance_found,
    dossier_close,
    dossier_court_approve,
    dossier_court_propose,
    dossier_court_rule,
    dossier_deferred_sign,
    dossier_demand_issue,
    dossier_document_deliver,
    dossier_fine_refer,
    dossier_guarantee_require,
    dossier_inquiry_answer,
    dossier_inquiry_send,
    dossier_money_confirm,
    dossier_open,
    dossier_proposal_refuse,
    dossier_transfer_approve,
    dossier_transfer_grant,
    dossier_transfer_notify,
    dossier_transfer_propose,
)
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase, Arrival
from replenish.selectors import case_owed, owed_by_case

RUN = "enforcement.run_dossier"
APPROVE = "enforcement.approve_dossier"
CONFIRM_MONEY = "enforcement.confirm_enforcement_money"


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AccountInline(_ReadOnlyInline):
    model = BankAccount
    fields = ["bank", "account_no", "balance", "balance_on", "replied_on"]
    readonly_fields = fields


class DocumentInline(_ReadOnlyInline):
    model = EnforcementDocument
    fields = ["number", "kind", "addressee", "issued_on", "served", "links"]
    readonly_fields = fields

    @admin.display(description=_("served"))
    def served(self, doc):
        if doc.delivered_on is None:
            url = reverse("admin:enforcement_document_deliver", args=[doc.pk])
            return format_html('<a href="{}">{}</a>', url, _("record the service"))
        return f"{doc.delivered_on} ({doc.get_delivery_channel_display()})"

    @admin.display(description=_("document"))
    def links(self, doc):
        return format_html(
            '<a href="{}">HTML</a> · <a href="{}">PDF</a>',
            reverse("enforcement:document_html", args=[doc.pk]),
            reverse("enforcement:document_pdf", args=[doc.pk]),
        )


class GuaranteeInline(_ReadOnlyInline):
    model = Guarantee
    fields = ["kind", "guarantor", "value", "given_on", "description"]
    readonly_fields = fields


class FineReferralInline(_ReadOnlyInline):
    model = FineReferral
    fields = ["referral_no", "department", "referred_on", "amount_owed", "referred_by"]
    readonly_fields = fields


# --- the forms of the steps that need an answer ------------------------------------------------


class BanksForm(forms.Form):
    banks = forms.CharField(
        label=_("banks to inquire at"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One bank a line."),
    )


class RepliesForm(forms.Form):
    replies = forms.CharField(
        label=_("the banks' replies"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_(
            "One account a line: bank, account number, balance, balance date, reply date "
            "(e.g. 工商银行,6222020000000001,5000.00,2026-03-20,2026-03-20). Empty: no account."
        ),
    )

    def clean_replies(self):
        replies = []
        for n, line in enumerate(self.cleaned_data["replies"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            try:
                bank, account, balance, balance_on, replied_on = parts
                replies.append(
                    BankReply(
                        bank,
                        account,
                        balance,
                        date.fromisoformat(balance_on),
                        date.fromisoformat(replied_on),
                    )
                )
            except ValueError:
                raise ValidationError(
                    _("Line %(n)s: five values are needed, the dates as YYYY-MM-DD.") % {"n": n}
                ) from None
        return replies


class DecisionForm(forms.Form):
    decision_no = forms.CharField(label=_("transfer decision number"), max_length=64)
    decided_on = forms.DateField(label=_("decided on"), initial=timezone.localdate)


class CourtForm(forms.Form):
    court = forms.CharField(label=_("court"), max_length=100)
    court_uscc = forms.CharField(label=_("court's credit code"), max_length=18, required=False)


class RulingForm(forms.Form):
    court_case_no = forms.CharField(label=_("court case number"), max_length=64)
    ruled_on = forms.DateField(label=_("ruled on"), initial=timezone.localdate)
    ruling = forms.CharField(label=_("ruling"), widget=forms.Textarea, required=False)


class DeferredForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind of guarantee"), choices=GuaranteeKind.choices)
    guarantor = forms.CharField(label=_("guarantor or property"), max_length=200)
    value = forms.DecimalField(label=_("value"), max_digits=16, decimal_places=2)
    description = forms.CharField(label=_("description"), widget=forms.Textarea, required=False)
    installment_count = forms.IntegerField(label=_("number of installments"), min_value=1)
    signatory = forms.CharField(label=_("signed for the unit by"), max_length=100, required=False)


class RefereeForm(forms.Form):
    department = forms.CharField(label=_("department referred to"), max_length=100)


class MoneyForm(forms.Form):
    arrival_ref = forms.CharField(label=_("arrival reference"), max_length=64)

    def clean_arrival_ref(self):
        ref = self.cleaned_data["arrival_ref"].strip()
        arrival = Arrival.objects.filter(arrival_ref=ref).first()
        if arrival is None:
            raise ValidationError(_("There is no arrival %(ref)s.") % {"ref": ref})
        self.cleaned_data["arrival"] = arrival
        return ref


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("why it closes"), choices=CloseReason.choices)
    note = forms.CharField(label=_("closing note"), widget=forms.Textarea, required=False)


class DeliverForm(forms.Form):
    channel = forms.ChoiceField(label=_("served by"), choices=ServiceChannel.choices)
    delivered_on = forms.DateField(label=_("served on"), initial=timezone.localdate)
    proof = forms.FileField(label=_("signed return receipt"), required=False)
    note = forms.CharField(label=_("delivery note"), max_length=200, required=False)


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    list_display = [
        "dossier_no",
        "case",
        "unit",
        "state",
        "opened_on",
        "owed_now",
        "demand_deadline",
        "court_window_closes",
    ]
    list_filter = ["state", "close_reason"]
    search_fields = ["=dossier_no", "=case__case_no", "=transfer_decision_no", "=court_case_no"]
    list_select_related = ["case__unit"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["dossier_no", "state", "case", "unit", "opened_on", "opened_by"]}),
        (
            _("What is owed"),
            {"fields": ["owed_now", "notice_facts", "balance_found_now"]},
        ),
        (
            _("Deadlines"),
            {
                "fields": [
                    "demand_deadline",
                    "reply_deadline",
                    "guarantee_deadline",
                    "court_window_opens",
                    "court_window_closes",
                ]
            },
        ),
        (
            _("Transfer"),
            {
                "fields": [
                    "proposed_by",
                    "transfer_amount",
                    "transfer_approved_by",
                    "decision_department",
                    "transfer_decision_no",
                    "transfer_decided_on",
                ]
            },
        ),
        (
            _("Court"),
            {"fields": ["court_approved_by", "court", "court_case_no", "ruled_on", "ruling"]},
        ),
        (
            _("Outcome"),
            {
                "fields": [
                    "agreement",
                    "money_arrival",
                    "closed_on",
                    "close_reason",
                    "close_note",
                    "audit_trail",
                ]
            },
        ),
    ]
    readonly_fields = [f for _name, opts in fieldsets for f in opts["fields"]]
    inlines = [DocumentInline, AccountInline, GuaranteeInline, FineReferralInline]
    actions = [
        "issue_demand",
        "send_inquiry",
        "record_replies",
        "propose_transfer",
        "approve_transfer",
        "record_decision",
        "notify_bank",
        "require_guarantee",
        "sign_deferred",
        "propose_court",
        "approve_court",
        "record_ruling",
        "refuse_proposal",
        "confirm_money",
        "refer_fine",
        "close",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case__unit", "notice")

    # Sections whose every field is still empty (the court before the court route, the outcome
    # before the end) are left out, so the page shows what has happened.
    OPTIONAL_SECTIONS = {_("Transfer"), _("Court")}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            (name, opts)
            for name, opts in fieldsets
            if name not in self.OPTIONAL_SECTIONS
            or any(getattr(obj, f, None) not in (None, "") for f in opts["fields"])
        ]

    def has_run_permission(self, request):
        return request.user.has_perm(RUN)

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE)

    def has_confirm_permission(self, request):
        return request.user.has_perm(CONFIRM_MONEY)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_url": reverse("admin:enforcement_queue")}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("unit"))
    def unit(self, dossier):
        return dossier.case.unit.name

    def get_changelist_instance(self, request):
        # What each listed case owes today, in one query for the page (not one per row).
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list
        owed = owed_by_case([d.case_id for d in rows], as_of=timezone.localdate())
        for dossier in rows:
            dossier.owed_today = owed.get(dossier.case_id)
        return changelist

    @admin.display(description=_("owed now (yuan)"))
    def owed_now(self, dossier):
        if hasattr(dossier, "owed_today"):
            return dossier.owed_today.total if dossier.owed_today else "0.00"
        return case_owed(dossier.case_id, as_of=timezone.localdate()).total

    @admin.display(description=_("notice enforced"))
    def notice_facts(self, dossier):
        n = dossier.notice
        return _(
            "%(number)s of %(issued)s, %(total)s yuan, delivered %(delivered)s, due %(deadline)s"
        ) % {
            "number": n.number,
            "issued": n.issued_on,
            "total": n.total,
            "delivered": n.delivered_on,
            "deadline": n.deadline,
        }

    @admin.display(description=_("balances found (yuan)"))
    def balance_found_now(self, dossier):
        if not dossier.accounts.exists():
            return "—"
        return balance_found(dossier)

    @admin.display(description=_("audit trail"))
    def audit_trail(self, dossier):
        return _audit_trail("dossier", dossier.pk)

    # --- the queue and the document pages -----------------------------------------------------

    def get_urls(self):
        return [
            path("queue/", self.admin_site.admin_view(self.queue_view), name="enforcement_queue"),
            path(
                "documents/<int:pk>/deliver/",
                self.admin_site.admin_view(self.deliver_view),
                name="enforcement_document_deliver",
            ),
            *super().get_urls(),
        ]

    def queue_view(self, request):
        """Overdue cases that no dossier works yet, the longest overdue first; opening one
        calls `dossier_open`."""
        if not request.user.has_perm("enforcement.view_dossier"):
            raise PermissionDenied
        if request.method == "POST":
            case = get_object_or_404(ArrearsCase, pk=request.POST.get("case"))
            try:
                dossier = dossier_open(case_id=case.pk, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, _errors_of(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Dossier %(no)s opened for case %(case)s.")
                    % {"no": dossier.dossier_no, "case": case.case_no},
                    messages.SUCCESS,
                )
                return redirect("admin:enforcement_dossier_change", dossier.pk)
            return redirect("admin:enforcement_queue")
        cases = list(overdue_without_dossier().select_related("unit")[:200])
        owed = owed_by_case([c.pk for c in cases], as_of=timezone.localdate())
        rows = [(c, owed.get(c.pk)) for c in cases]
        return TemplateResponse(
            request,
            "admin/enforcement/queue.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Overdue cases without an enforcement dossier"),
                "rows": rows,
                "may_open": request.user.has_perm(RUN),
                "opts": self.model._meta,
            },
        )

    def deliver_view(self, request, pk: int):
        document = get_object_or_404(EnforcementDocument, pk=pk)
        if not request.user.has_perm(RUN):
            raise PermissionDenied
        form = DeliverForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                dossier_document_deliver(
                    document_id=document.pk,
                    channel=data["channel"],
                    delivered_on=data["delivered_on"],
                    proof=data["proof"],
                    note=data["note"],
                    actor=request.user,
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, _errors_of(exc))
            else:
                self.message_user(
                    request,
                    _("The service of %(number)s is recorded.") % {"number": document.number},
                    messages.SUCCESS,
                )
                return redirect("admin:enforcement_dossier_change", document.dossier_id)
        return TemplateResponse(
            request,
            "admin/replenish/form_page.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record the service of %(number)s (%(kind)s)")
                % {"number": document.number, "kind": document.get_kind_display()},
                "form": form,
                "multipart": True,
                "opts": self.model._meta,
            },
        )

    # --- the steps ------------------------------------------------------------------------------

    def _each(self, request, queryset, apply):
        run_each(self, request, queryset, apply)

    def _form(self, request, queryset, form_class, title, apply):
        return form_action(self, request, queryset, form_class=form_class, title=title, apply=apply)

    @admin.action(description=_("Issue the written demand"), permissions=["run"])
    def issue_demand(self, request, queryset):
        self._each(
            request, queryset, lambda d: dossier_demand_issue(dossier_id=d.pk, actor=request.user)
        )

    @admin.action(description=_("Send the account inquiry"), permissions=["run"])
    def send_inquiry(self, request, queryset):
        return self._form(
            request, queryset, BanksForm, _("Which banks are asked?"),
            lambda d, data: dossier_inquiry_send(
                dossier_id=d.pk, banks=data["banks"].splitlines(), actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Record the banks' replies"), permissions=["run"])
    def record_replies(self, request, queryset):
        return self._form(
            request, queryset, RepliesForm, _("What did the banks reply?"),
            lambda d, data: dossier_inquiry_answer(
                dossier_id=d.pk, replies=data["replies"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Propose the transfer request"), permissions=["run"])
    def propose_transfer(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda d: dossier_transfer_propose(dossier_id=d.pk, actor=request.user),
        )

    @admin.action(
        description=_("Approve the transfer request (second person)"), permissions=["approve"]
    )
    def approve_transfer(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda d: dossier_transfer_approve(dossier_id=d.pk, actor=request.user),
        )

    @admin.action(description=_("Record the transfer decision"), permissions=["run"])
    def record_decision(self, request, queryset):
        return self._form(
            request, queryset, DecisionForm, _("The department's transfer decision"),
            lambda d, data: dossier_transfer_grant(
                dossier_id=d.pk, decision_no=data["decision_no"],
                decided_on=data["decided_on"], actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Notify the bank to transfer"), permissions=["run"])
    def notify_bank(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda d: dossier_transfer_notify(dossier_id=d.pk, actor=request.user),
        )

    @admin.action(description=_("Require a guarantee"), permissions=["run"])
    def require_guarantee(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda d: dossier_guarantee_require(dossier_id=d.pk, actor=request.user),
        )

    @admin.action(description=_("Sign the deferred-payment agreement"), permissions=["run"])
    def sign_deferred(self, request, queryset):
        return self._form(
            request, queryset, DeferredForm, _("The guarantee and the agreement"),
            lambda d, data: dossier_deferred_sign(
                dossier_id=d.pk,
                guarantee=GuaranteeGiven(
                    data["kind"], data["guarantor"], data["value"], data["description"]
                ),
                installment_count=data["installment_count"],
                signatory=data["signatory"],
                actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Propose the court application"), permissions=["run"])
    def propose_court(self, request, queryset):
        self._each(
            request, queryset, lambda d: dossier_court_propose(dossier_id=d.pk, actor=request.user)
        )

    @admin.action(
        description=_("Approve the court application (second person)"), permissions=["approve"]
    )
    def approve_court(self, request, queryset):
        return self._form(
            request, queryset, CourtForm, _("Which court is applied to?"),
            lambda d, data: dossier_court_approve(
                dossier_id=d.pk, court=data["court"], court_uscc=data["court_uscc"],
                actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Record the court's ruling"), permissions=["run"])
    def record_ruling(self, request, queryset):
        return self._form(
            request, queryset, RulingForm, _("The court's ruling"),
            lambda d, data: dossier_court_rule(
                dossier_id=d.pk, court_case_no=data["court_case_no"], ruled_on=data["ruled_on"],
                ruling=data["ruling"], actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Refuse the proposal (with a reason)"), permissions=["approve"])
    def refuse_proposal(self, request, queryset):
        return self._form(
            request, queryset, ReasonForm, _("Why is the proposal refused?"),
            lambda d, data: dossier_proposal_refuse(
                dossier_id=d.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(
        description=_("Confirm the money from enforcement (finance)"), permissions=["confirm"]
    )
    def confirm_money(self, request, queryset):
        return self._form(
            request, queryset, MoneyForm, _("Which arrival is the money of the enforcement?"),
            lambda d, data: dossier_money_confirm(
                dossier_id=d.pk, arrival_id=data["arrival"].pk, actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Refer for a fine (Art. 86)"), permissions=["run"])
    def refer_fine(self, request, queryset):
        return self._form(
            request, queryset, RefereeForm, _("Refer to which department?"),
            lambda d, data: dossier_fine_refer(
                dossier_id=d.pk, department=data["department"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Close the dossier (with the reason)"), permissions=["run"])
    def close(self, request, queryset):
        return self._form(
            request, queryset, CloseForm, _("Why does the dossier close?"),
            lambda d, data: dossier_close(
                dossier_id=d.pk, reason=data["reason"], note=data["note"], actor=request.user
            ),
        )  # fmt: skip


@admin.register(EnforcementDocument)
class EnforcementDocumentAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "dossier", "addressee", "issued_on", "delivered_on", "links"]
    list_filter = ["kind"]
    search_fields = ["=number", "=dossier__dossier_no"]
    list_select_related = ["dossier"]
    fields = [
        "number",
        "kind",
        "dossier",
        "addressee",
        "issued_on",
        "delivered_on",
        "delivery_channel",
        "delivery_proof",
        "delivery_note",
        "links",
    ]
    readonly_fields = fields

    @admin.display(description=_("document"))
    def links(self, doc):
        return DocumentInline.links(None, doc)


# Collection's work queue on the dashboard: the overdue cases waiting for a dossier.
register_queue(
    Queue(
        key="cases_to_enforce",
        department=COLLECTION,
        label=_("Overdue cases without a dossier"),
        permission=RUN,
        queryset=overdue_without_dossier,
        changelist="admin:enforcement_queue",
        query="",
        oldest_first="state_changed_at",
    )
)
