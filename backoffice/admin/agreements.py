"""Admin of agreements: the list and page, and the staff actions with their forms (draft with a
schedule preview, sign with a preview as of the signing date and the scan, terminate), the printed
agreement, and the apportionment of a split unit's case. Every action calls its service; a
`ValidationError` becomes a message."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import READ_ONLY_TABULAR
from backoffice.forms import DateInput
from kernel.inputs import DateField
from notices.case_documents import agreement_document
from notices.documents import pdf_render, pdf_response
from replenish.documents import agreement_document_context
from replenish.documents_serving import document_url
from replenish.models import (
    KIND_OF_COUNTERPARTY,
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    CaseState,
    Installment,
)
from replenish.selectors import case_owed
from replenish.services.agreements import (
    AGREEMENT_CASE_STATES,
    agreement_draft,
    agreement_preview,
    agreement_scan_attach,
    agreement_sign,
    agreement_terminate,
)
from replenish.services.succession import case_split
from units.models import CounterpartyKind, UnitEvent, UnitEventKind, UnitStatus


def case_tools(request, case: ArrearsCase) -> list[tuple[str, str]]:
    """The agreement and succession buttons of a case's page."""
    tools = []
    user = request.user
    if (
        user.has_perm("replenish.sign_agreement")
        and case.state in AGREEMENT_CASE_STATES
        and (case.obligor_id or case.unit.status == UnitStatus.ACTIVE)
    ):
        tools.append(
            (reverse("admin:replenish_agreement_draft", args=[case.pk]), _("Draft an agreement"))
        )
    if (
        user.has_perm("replenish.transfer_case")
        and case.unit.status == UnitStatus.SPLIT
        and case.predecessor_id is None
        and case.state in (*AGREEMENT_CASE_STATES, CaseState.AGREEMENT)
    ):
        tools.append(
            (
                reverse("admin:replenish_arrearscase_split", args=[case.pk]),
                _("Apportion among the successors"),
            )
        )
    return tools


class AgreementInline(admin.TabularInline):
    """The agreements of a case, on the case's page."""

    model = Agreement
    template = READ_ONLY_TABULAR
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["number", "kind", "counterparty", "state", "signed_on", "total", "ended_on"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("counterparty__unit")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SuccessorCaseInline(admin.TabularInline):
    """The cases a split case was apportioned into."""

    model = ArrearsCase
    fk_name = "predecessor"
    template = READ_ONLY_TABULAR
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["case_no", "obligor", "state", "principal_unpaid", "fee_unpaid"]
    readonly_fields = fields
    verbose_name = _("successor's case")
    verbose_name_plural = _("successors' cases")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("obligor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DraftForm(forms.Form):
    installment_count = forms.IntegerField(label=_("number of installments"), min_value=1)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea({"rows": 2}))


class SignForm(forms.Form):
    signed_on = DateField(label=_("signed on"), widget=DateInput)
    signatory = forms.CharField(
        label=_("signed for the counterparty by"), max_length=100, required=False
    )
    scan = forms.FileField(label=_("signed scan"), required=False)


class TerminateForm(forms.Form):
    on = DateField(label=_("ended on"), widget=DateInput)
    reason = forms.CharField(label=_("why it ends"), widget=forms.Textarea({"rows": 3}))


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    can_delete = False
    fields = ["seq", "due_on", "amount", "cumulative", "paid_status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(paid_since=F("agreement__case__paid_total") - F("agreement__paid_before"))
        )

    def has_view_permission(self, request, obj=None):
        # Installments are part of the agreement: who sees the agreement sees its schedule.
        return request.user.has_perm("replenish.view_agreement")

    @admin.display(description=_("paid"))
    def paid_status(self, installment):
        paid = installment.paid_since or 0
        if paid >= installment.cumulative:
            return _("paid")
        if paid > installment.cumulative - installment.amount:
            return _("partly paid")
        return _("unpaid")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ["scan"]
        # No link to the stored file: it is opened through the checked view (scan_document).
        widgets = {"scan": forms.FileInput}


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    form = AgreementForm
    list_display = [
        "number",
        "case",
        "kind",
        "counterparty_name",
        "state",
        "drafted_on",
        "signed_on",
        "total",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["=number", "=case__case_no", "counterparty__name", "=counterparty__uscc"]
    show_full_result_count = False
    readonly_fields = [
        "number",
        "case",
        "kind",
        "counterparty",
        "state",
        "drafted_on",
        "installment_count",
        "note",
        "signed_on",
        "signatory",
        "principal",
        "late_fee",
        "total",
        "ended_on",
        "breached_due_on",
        "end_reason",
        "document_link",
        "scan_document",
    ]
    fields = [*readonly_fields, "scan"]
    inlines = [InstallmentInline]

    @admin.display(description=_("counterparty"), ordering="counterparty__name")
    def counterparty_name(self, agreement):
        return agreement.counterparty.display_name

    @admin.display(description=_("signed scan"))
    def scan_document(self, agreement):
        if not agreement.scan:
            return "—"
        url = document_url("agreement-scan", agreement)
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("open the scan"))

    @admin.display(description=_("document"))
    def document_link(self, agreement):
        url = reverse("admin:replenish_agreement_document", args=[agreement.pk])
        return format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}?format=pdf">PDF</a>',
            url,
            _("print"),
            url,
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("counterparty__unit", "case")

    def has_add_permission(self, request):
        return False  # drafted from the case's page

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Changing is attaching the signed scan, through its service.
        return request.user.has_perm("replenish.sign_agreement")

    def save_model(self, request, obj, form, change):
        scan = form.cleaned_data.get("scan")
        if "scan" not in form.changed_data or not scan:
            return
        try:
            with transaction.atomic():
                agreement_scan_attach(agreement_id=obj.pk, file=scan, actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        agreement = self.get_object(request, object_id)
        may_act = request.user.has_perm("replenish.sign_agreement")
        tools = []
        if agreement is not None:
            tools.append((reverse("admin:replenish_agreement_document", args=[agreement.pk]),
                          _("Print")))  # fmt: skip
            tools.append((reverse("admin:replenish_agreement_document", args=[agreement.pk])
                          + "?format=pdf", "PDF"))  # fmt: skip
            event = agreement.counterparty.event
            if event is not None and event.kind == UnitEventKind.BANKRUPTCY:
                tools.append(
                    (
                        reverse("admin:units_unitevent_claim_statement", args=[event.pk]),
                        _("Claim statement"),
                    )
                )
            if may_act and agreement.state == AgreementState.DRAFT:
                tools.append(
                    (reverse("admin:replenish_agreement_sign", args=[agreement.pk]), _("Sign"))
                )
            if may_act and agreement.state in (AgreementState.DRAFT, AgreementState.IN_FORCE):
                tools.append(
                    (
                        reverse("admin:replenish_agreement_terminate", args=[agreement.pk]),
                        _("Withdraw")
                        if agreement.state == AgreementState.DRAFT
                        else _("Terminate"),
                    )
                )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "agreement_tools": tools}
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("draft/<int:case_id>/", view(self.draft_view), name="replenish_agreement_draft"),
            path("<int:pk>/sign/", view(self.sign_view), name="replenish_agreement_sign"),
            path(
                "<int:pk>/terminate/",
                view(self.terminate_view),
                name="replenish_agreement_terminate",
            ),
            path(
                "<int:pk>/document/", view(self.document_view), name="replenish_agreement_document"
            ),
            path(
                "split-case/<int:case_id>/",
                view(self.split_case_view),
                name="replenish_arrearscase_split",
            ),
            *super().get_urls(),
        ]

    # --- the action pages ---------------------------------------------------------------------

    def _page(self, request, context: dict):
        return TemplateResponse(
            request,
            "admin/replenish/agreement/action.html",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    @staticmethod
    def _require(request, permission: str) -> None:
        if not request.user.has_perm(permission):
            raise PermissionDenied

    @staticmethod
    def _preview(count, on, case):
        """The schedule signing on `on` would give, or the reason there is none."""
        try:
            return agreement_preview(case=case, count=count, signed_on=on), []
        except ValidationError as exc:
            return None, exc.messages

    @staticmethod
    def _case_summary(case) -> list[tuple]:
        owed = case_owed(case.pk, as_of=timezone.localdate())
        obligor = case.obligor
        return [
            (_("case"), case.case_no),
            (_("unit"), case.unit),
            (_("state"), case.get_state_display()),
            (_("owed by"), obligor if obligor else _("the unit itself")),
            (_("principal unpaid"), owed.principal),
            (_("late fee to today"), owed.late_fee),
        ]

    def draft_view(self, request, case_id: int):
        self._require(request, "replenish.sign_agreement")
        case = get_object_or_404(ArrearsCase.objects.select_related("unit", "obligor"), pk=case_id)
        kind = KIND_OF_COUNTERPARTY[case.obligor.kind if case.obligor else CounterpartyKind.UNIT]
        today = timezone.localdate()
        form = DraftForm(
            request.POST or None,
            initial={"installment_count": min(6, settings.INSTALLMENT_MAX_MONTHS)},
        )
        count = form.initial["installment_count"]
        if request.method == "POST" and form.is_valid():
            count = form.cleaned_data["installment_count"]
            if "_draft" in request.POST:
                try:
                    with transaction.atomic():
                        agreement = agreement_draft(
                            case_id=case.pk,
                            installment_count=count,
                            note=form.cleaned_data["note"],
                            actor=request.user,
                        )
                except ValidationError as exc:
                    for message in exc.messages:
                        messages.error(request, message)
                else:
                    messages.success(
                        request,
                        _("Agreement %(number)s drafted: print it for the counterparty, then sign.")
                        % {"number": agreement.number},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:replenish_agreement_change", args=[agreement.pk])
                    )
        preview, problems = self._preview(count, today, case)
        return self._page(
            request,
            {
                "title": _("Draft an agreement for case %(case)s") % {"case": case.case_no},
                "summary": [
                    *self._case_summary(case),
                    (_("kind"), AgreementKind(kind).label),
                    (_("maximum installments"), settings.INSTALLMENT_MAX_MONTHS),
                ],
                "preview": preview,
                "preview_title": _("Schedule if signed today"),
                "problems": problems,
                "form": form,
                "buttons": [("_preview", _("Preview")), ("_draft", _("Create the draft"))],
                "back": reverse("admin:replenish_arrearscase_change", args=[case.pk]),
            },
        )

    def sign_view(self, request, pk: int):
        self._require(request, "replenish.sign_agreement")
        agreement = get_object_or_404(
            Agreement.objects.select_related("case__unit", "case__obligor", "counterparty__unit"),
            pk=pk,
        )
        back = reverse("admin:replenish_agreement_change", args=[agreement.pk])
        form = SignForm(
            request.POST or None, request.FILES or None, initial={"signed_on": timezone.localdate()}
        )
        on = form.initial["signed_on"]
        if request.method == "POST" and form.is_valid():
            on = form.cleaned_data["signed_on"]
            if "_sign" in request.POST:
                try:
                    with transaction.atomic():
                        agreement_sign(
                            agreement_id=agreement.pk,
                            actor=request.user,
                            signed_on=on,
                            signatory=form.cleaned_data["signatory"],
                        )
                        if form.cleaned_data["scan"]:
                            agreement_scan_attach(
                                agreement_id=agreement.pk,
                                file=form.cleaned_data["scan"],
                                actor=request.user,
                            )
                except ValidationError as exc:
                    for message in exc.messages:
                        messages.error(request, message)
                else:
                    messages.success(
                        request,
                        _("Agreement %(number)s signed: it is in force.")
                        % {"number": agreement.number},
                    )
                    return HttpResponseRedirect(back)
        preview, problems = self._preview(agreement.installment_count, on, agreement.case)
        return self._page(
            request,
            {
                "title": _("Sign agreement %(number)s") % {"number": agreement.number},
                "summary": [
                    (_("agreement"), agreement.number),
                    (_("kind"), agreement.get_kind_display()),
                    (_("counterparty"), agreement.counterparty),
                    *self._case_summary(agreement.case)[:4],
                ],
                "preview": preview,
                "preview_title": _("What signing on %(date)s fixes") % {"date": on},
                "problems": problems,
                "form": form,
                "multipart": True,
                "buttons": [("_preview", _("Preview")), ("_sign", _("Sign"))],
                "back": back,
            },
        )

    def terminate_view(self, request, pk: int):
        self._require(request, "replenish.sign_agreement")
        agreement = get_object_or_404(
            Agreement.objects.select_related("case", "counterparty__unit"), pk=pk
        )
        back = reverse("admin:replenish_agreement_change", args=[agreement.pk])
        form = TerminateForm(request.POST or None, initial={"on": timezone.localdate()})
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    agreement_terminate(
                        agreement_id=agreement.pk,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        on=form.cleaned_data["on"],
                    )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request, _("Agreement %(number)s ended.") % {"number": agreement.number}
                )
                return HttpResponseRedirect(back)
        in_force = agreement.state == AgreementState.IN_FORCE
        return self._page(
            request,
            {
                "title": _("End agreement %(number)s") % {"number": agreement.number},
                "summary": [
                    (_("agreement"), agreement.number),
                    (_("state"), agreement.get_state_display()),
                    (_("counterparty"), agreement.counterparty),
                    (_("case"), agreement.case.case_no),
                ],
                "explanation": _(
                    "The case becomes overdue and the late fee runs again from the day after the "
                    "end date."
                )
                if in_force
                else _("The draft is withdrawn; the case stays as it is."),
                "form": form,
                "buttons": [("_terminate", _("Terminate") if in_force else _("Withdraw"))],
                "back": back,
            },
        )

    def document_view(self, request, pk: int):
        agreement = get_object_or_404(
            Agreement.objects.select_related(
                "case__unit", "case__predecessor", "counterparty__unit", "counterparty__event"
            ),
            pk=pk,
        )
        if not self.has_view_permission(request, agreement):
            raise PermissionDenied
        if request.GET.get("format") == "pdf":
            return pdf_response(
                pdf_render(agreement_document(agreement)), f"{agreement.number}.pdf"
            )
        return TemplateResponse(
            request, "replenish/agreement_document.html", agreement_document_context(agreement)
        )

    def split_case_view(self, request, case_id: int):
        self._require(request, "replenish.transfer_case")
        case = get_object_or_404(ArrearsCase.objects.select_related("unit", "obligor"), pk=case_id)
        back = reverse("admin:replenish_arrearscase_change", args=[case.pk])
        event = UnitEvent.objects.filter(unit=case.unit, kind=UnitEventKind.SPLIT).first()
        if request.method == "POST":
            try:
                with transaction.atomic():
                    successors = case_split(case_id=case.pk, actor=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    _("Case %(case)s apportioned: %(cases)s.")
                    % {"case": case.case_no, "cases": ", ".join(s.case_no for s in successors)},
                )
                return HttpResponseRedirect(back)
        parties = list(event.parties.order_by("pk")) if event else []
        return self._page(
            request,
            {
                "title": _("Apportion case %(case)s among the successors") % {"case": case.case_no},
                "summary": [
                    *self._case_summary(case),
                    *[(_("share of %(party)s") % {"party": p.name}, p.share) for p in parties],
                ],
                "explanation": _(
                    "The late fee is fixed to today and every line is divided by the shares: "
                    "each successor gets a case of its own; this case becomes transferred."
                ),
                "form": None,
                "buttons": [("_split", _("Apportion"))],
                "back": back,
            },
        )
