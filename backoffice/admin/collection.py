"""Admin screens of money in: payments, arrivals (the import with its preview, the unmatched queue,
the adjustment) and credit. Every button calls a service; each department sees the actions of
its duties only (docs/rules.md: segregation of duties)."""

import secrets
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin import declared
from backoffice.admin.arrival_resolve import resolve_view
from backoffice.admin.file_formats import ARRIVAL_COLUMNS
from backoffice.admin.helpers import (
    ReadOnlyAdmin,
    ReasonForm,
    _audit_trail,
    case_form_view,
    form_action,
    run_each,
)
from backoffice.admin.shown import actor_column, reason_column
from kernel.csvfiles import FileRejected
from kernel.inputs import AmountField, DateField
from kernel.uploads import import_file_check
from replenish.labels import arrival_note_display
from replenish.models import (
    ArrearsCase,
    Arrival,
    ArrivalImport,
    ArrivalState,
    CreditEntry,
    Payment,
    PaymentChannel,
)
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import (
    arrival_confirm,
    arrival_fail,
    arrival_match,
    arrival_reverse,
    arrivals_post,
)
from replenish.services.arrivals_import import arrivals_import
from replenish.services.payment import payment_accept, payment_record, payment_reject

PREVIEW_ROWS_SHOWN = 500
UPLOADS = "arrival-imports"


# --- actions that ask for something first (a reason, a date, a case) --------------------------


class ConfirmArrivalForm(forms.Form):
    arrived_on = DateField(label=_("arrived on"), initial=timezone.localdate)
    arrival_ref = forms.CharField(
        label=_("arrival reference (bank or tax bureau)"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to use payment-<number>. Only for one payment at a time."),
    )


class MatchForm(forms.Form):
    case_no = forms.CharField(label=_("case number"), max_length=20)
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)

    def clean_case_no(self):
        case_no = self.cleaned_data["case_no"].strip()
        case = ArrearsCase.objects.filter(case_no=case_no).first()
        if case is None:
            raise ValidationError(_("There is no case %(case)s.") % {"case": case_no})
        self.cleaned_data["case"] = case
        return case_no


# --- payments ---------------------------------------------------------------------------------


class PaymentRecordForm(forms.Form):
    case_no = forms.CharField(label=_("case number"), max_length=20)
    amount = AmountField(label=_("amount"))
    channel = forms.ChoiceField(label=_("channel"), choices=PaymentChannel.choices)
    paid_on = DateField(label=_("paid on"), initial=timezone.localdate)
    reference = forms.CharField(
        label=_("notice or agreement number quoted"), max_length=64, required=False
    )
    channel_ref = forms.CharField(
        label=_("transaction number of the channel"), max_length=64, required=False
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "case",
        "payer",
        "amount",
        # what collection checks a declaration against, next to its amount
        "reference",
        "case_owes_today",
        "expected_overpayment",
        "channel",
        "paid_on",
        "via",
        "state",
        "recorded_at",
    ]
    list_filter = ["state", "channel", "via"]
    search_fields = ["=case__case_no", "=payer__uscc", "=channel_ref", "=reference"]
    list_select_related = ["case", "payer"]
    show_full_result_count = False
    fields = [
        "case",
        "payer",
        "amount",
        "channel",
        "paid_on",
        "reference",
        "channel_ref",
        "via",
        "state",
        "recorded_at",
        "recorded_by",
        "arrival",
        "owed_when_declared",
        "expected_overpayment",
        "proof_shown",
        "audit_trail",
    ]
    readonly_fields = fields
    actions = ["accept", "reject", "confirm_arrival", "fail"]

    def get_changelist(self, request, **kwargs):
        return declared.PaymentChangeList

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:payment_id>/proof/", wrap(declared.proof_view),
                 name="replenish_payment_proof"),
            *super().get_urls(),
        ]  # fmt: skip

    @admin.display(description=_("the case owes today"))
    def case_owes_today(self, payment):
        return declared.case_owes_today(payment)

    @admin.display(description=_("expected overpayment"))
    def expected_overpayment(self, payment):
        return declared.expected_overpayment(payment)

    @admin.display(description=_("proof of payment"))
    def proof_shown(self, payment):
        return declared.proof_shown(payment)

    def has_add_permission(self, request):
        return request.user.has_perm("replenish.add_payment")

    def has_accept_permission(self, request):
        return request.user.has_perm("replenish.accept_payment")

    def has_confirm_permission(self, request):
        return request.user.has_perm("replenish.confirm_arrival")

    @admin.display(description=_("audit trail"))
    def audit_trail(self, payment):
        return _audit_trail("payment", payment.pk)

    def add_view(self, request, form_url="", extra_context=None):
        """Recording a payment at the counter: the form calls `payment_record`."""

        def record(case, data):
            payment = payment_record(
                case_id=case.pk,
                amount=data["amount"],
                channel=data["channel"],
                paid_on=data["paid_on"],
                reference=data["reference"],
                channel_ref=data["channel_ref"],
                actor=request.user,
            )
            return _("Payment %(payment)s recorded for case %(case)s.") % {
                "payment": payment.pk,
                "case": case.case_no,
            }

        return case_form_view(
            self,
            request,
            make_form=lambda: PaymentRecordForm(
                request.POST or None, initial={"case_no": request.GET.get("case_no", "")}
            ),
            title=_("Record a payment at the counter"),
            submit=record,
        )

    @admin.action(description=_("Accept, and ask finance to collect"), permissions=["accept"])
    def accept(self, request, queryset):
        run_each(
            self, request, queryset, lambda p: payment_accept(payment_id=p.pk, actor=request.user)
        )

    @admin.action(description=_("Do not accept (with a reason)"), permissions=["accept"])
    def reject(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Why are these payments not accepted?"),
            apply=lambda p, data: payment_reject(
                payment_id=p.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Confirm the arrival (到账)"), permissions=["confirm"])
    def confirm_arrival(self, request, queryset):
        if request.POST.get("arrival_ref") and queryset.count() > 1:
            self.message_user(
                request, _("An arrival reference is for one payment at a time."), messages.ERROR
            )
            return None
        return form_action(
            self, request, queryset,
            form_class=ConfirmArrivalForm,
            title=_("When did the money arrive?"),
            apply=lambda p, data: arrival_confirm(
                payment_id=p.pk, arrived_on=data["arrived_on"],
                arrival_ref=data["arrival_ref"], actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Mark failed: the money never arrived"), permissions=["confirm"])
    def fail(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Why did these payments fail?"),
            apply=lambda p, data: arrival_fail(
                payment_id=p.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip


# --- arrivals ---------------------------------------------------------------------------------


class ArrivalFileForm(forms.Form):
    file = forms.FileField(
        label=_("arrivals file"),
        help_text=_("CSV (UTF-8 or GB18030, as Excel saves it) or an Excel workbook (XLSX)"),
        validators=[import_file_check],
    )


@admin.register(Arrival)
class ArrivalAdmin(ReadOnlyAdmin):
    list_display = [
        "arrival_ref",
        "arrived_on",
        "amount",
        "payer_uscc",
        "reference",
        "channel",
        "state",
        "case",
        "note_shown",
        "applied_amount",
        "credit_amount",
    ]
    list_filter = ["state", "channel", "matched_by", "arrived_on"]
    search_fields = ["=arrival_ref", "=payer_uscc", "=reference", "=case__case_no"]
    list_select_related = ["case"]
    show_full_result_count = False
    fields = [
        "arrival_ref",
        "arrived_on",
        "amount",
        "payer_uscc",
        "payer",
        "reference",
        "channel",
        "state",
        "case",
        "matched_by",
        "note_shown",
        "import_batch",
        "received_at",
        "applied_amount",
        "credit_amount",
        "posted_at",
        "audit_trail",
    ]
    readonly_fields = fields
    actions = ["match", "post", "reverse"]

    @admin.display(description=_("matching note"), ordering="match_note")
    def note_shown(self, arrival):
        note = arrival_note_display(arrival.match_note)
        if arrival.state != ArrivalState.UNMATCHED:
            return note
        return format_html(
            '{} <a class="button" href="{}">{}</a>',
            note,
            reverse("admin:replenish_arrival_resolve", args=[arrival.pk]),
            _("Choose the case"),
        )

    change_list_template = "admin/replenish/arrival/change_list.html"

    def has_match_permission(self, request):
        return request.user.has_perm("replenish.match_arrival")

    def has_post_permission(self, request):
        return request.user.has_perm("replenish.post_arrival")

    def has_reverse_permission(self, request):
        return request.user.has_perm("replenish.reverse_arrival")

    def has_import_permission(self, request):
        return request.user.has_perm("replenish.add_arrival")

    @admin.display(description=_("audit trail"))
    def audit_trail(self, arrival):
        return _audit_trail("arrival", arrival.pk)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_import": self.has_import_permission(request),
            "may_post": self.has_post_permission(request),
            "unmatched": ArrivalState.UNMATCHED,
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="replenish_arrival_import"),
            path("adjust/", wrap(self.adjust_view), name="replenish_arrival_adjust"),
            path(
                "<int:pk>/resolve/",
                wrap(partial(resolve_view, self)),
                name="replenish_arrival_resolve",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Match to a case (finance)"), permissions=["match"])
    def match(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=MatchForm,
            title=_("Which case did this money pay?"),
            apply=lambda a, data: arrival_match(
                arrival_id=a.pk, case_id=data["case"].pk, reason=data["reason"],
                actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Post to the ledger now (adjustment)"), permissions=["post"])
    def post(self, request, queryset):
        posted = arrivals_post(
            actor=request.user, arrival_ids=list(queryset.values_list("pk", flat=True))
        )
        for line in posted:
            self.message_user(request, str(line), messages.SUCCESS)
        if not posted:
            self.message_user(request, _("Nothing to post: only matched arrivals are posted."))

    @admin.action(description=_("Reverse: found wrong (finance)"), permissions=["reverse"])
    def reverse(self, request, queryset):
        return form_action(
            self, request, queryset,
            form_class=ReasonForm,
            title=_("Why are these arrivals reversed?"),
            apply=lambda a, data: arrival_reverse(
                arrival_id=a.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    def adjust_view(self, request: HttpRequest):
        """The collection department's adjustment on demand: post every matched arrival."""
        if not self.has_post_permission(request):
            raise PermissionDenied
        report = None
        if request.method == "POST":
            report = adjustments_post(actor=request.user)
        return TemplateResponse(
            request,
            "admin/replenish/arrival/adjust.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Post the adjustments"),
                "report": report,
                "waiting": Arrival.objects.filter(
                    state=ArrivalState.MATCHED, arrived_on__lte=timezone.localdate()
                ).count(),
                "opts": self.model._meta,
            },
        )

    def import_view(self, request: HttpRequest):
        """Upload, preview (the import itself, rolled back), confirm: the same service as
        `manage.py import_arrivals`."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import arrival information"),
            "opts": self.model._meta,
            "shown": PREVIEW_ROWS_SHOWN,
        }
        pending = request.session.get("arrival_import")
        if request.method == "POST" and "confirm" in request.POST:
            return self._import_confirm(request, pending)
        form = ArrivalFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            if pending:
                # A new upload replaces a preview never confirmed.
                default_storage.delete(pending["path"])
                del request.session["arrival_import"]
            upload = form.cleaned_data["file"]
            try:
                # The upload itself is previewed and kept for the confirmation only once valid.
                result = arrivals_import(
                    file=upload, file_name=upload.name, actor=request.user, preview=True
                )
            except FileRejected as rejected:
                context["errors"] = rejected.errors
            else:
                upload.seek(0)
                stored = default_storage.save(f"{UPLOADS}/{secrets.token_hex(16)}.csv", upload)
                token = secrets.token_urlsafe(16)
                request.session["arrival_import"] = {
                    "token": token,
                    "path": stored,
                    "name": upload.name,
                }
                context.update(
                    result=result,
                    rows=result.preview[:PREVIEW_ROWS_SHOWN],
                    more=max(0, len(result.preview) - PREVIEW_ROWS_SHOWN),
                    token=token,
                    file_name=upload.name,
                )
        context["form"] = form
        context["columns"] = ARRIVAL_COLUMNS
        context["template_kind"] = "arrivals"
        return TemplateResponse(request, "admin/replenish/arrival/import.html", context)

    def _import_confirm(self, request, pending):
        if not pending or request.POST.get("token") != pending["token"]:
            self.message_user(
                request, _("That preview has expired; upload the file again."), messages.ERROR
            )
            return redirect("admin:replenish_arrival_import")
        del request.session["arrival_import"]
        try:
            with default_storage.open(pending["path"], "rb") as stream:
                result = arrivals_import(file=stream, file_name=pending["name"], actor=request.user)
        except FileRejected as rejected:
            # The data changed since the preview (another import): nothing was written.
            for error in rejected.errors:
                self.message_user(request, error.shown(), messages.ERROR)
            return redirect("admin:replenish_arrival_import")
        finally:
            default_storage.delete(pending["path"])
        self.message_user(request, result.summary(), messages.SUCCESS)
        url = reverse("admin:replenish_arrival_changelist")
        if result.import_id:
            url += f"?import_batch__id__exact={result.import_id}"
        return HttpResponseRedirect(url)


@admin.register(ArrivalImport)
class ArrivalImportAdmin(ReadOnlyAdmin):
    list_display = [
        "file_name",
        "imported_at",
        "rows",
        "received",
        "resent",
        "matched",
        "unmatched",
        actor_column,
    ]
    fields = [*list_display, "sha256"]
    readonly_fields = fields


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["unit", "kind", "amount", "arrival", "case", "effective_on", actor_column]
    list_filter = ["kind", "effective_on"]
    search_fields = ["=unit__uscc", "=arrival__arrival_ref", "=case__case_no"]
    list_select_related = ["unit", "arrival", "case"]
    fields = [*list_display, "recorded_at", reason_column]
    readonly_fields = fields
