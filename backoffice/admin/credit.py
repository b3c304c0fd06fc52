"""Admin screens of credit used: refunds (collection records an application for a unit; finance
approves — twice above the threshold — and records the payment out) and offsets (shown on the
case page; collection offsets a unit's credit by hand from the credit list). Every button calls a
service."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.admin.collection import (
    ReadOnlyAdmin,
    ReasonForm,
    _audit_trail,
    form_action,
    run_each,
)
from backoffice.admin.helpers import READ_ONLY_TABULAR
from backoffice.queues import Queue, register
from replenish.departments import FINANCE
from replenish.models import CreditOffset, CreditRefund, RefundState
from replenish.services.credit import (
    credit_offset,
    refund_apply,
    refund_approve,
    refund_pay,
    refund_reject,
    refund_withdraw,
    unit_credit,
)
from units.models import Unit


class PayOutForm(forms.Form):
    paid_on = forms.DateField(label=_("paid out on"), initial=timezone.localdate)
    payout_ref = forms.CharField(label=_("payment-out reference"), max_length=64)


class RefundRecordForm(forms.Form):
    uscc = forms.CharField(label=_("Unified Social Credit Code"), max_length=18)
    amount = forms.DecimalField(label=_("amount"), max_digits=16, decimal_places=2)
    account_name = forms.CharField(label=_("account name"), max_length=100)
    account_bank = forms.CharField(label=_("bank"), max_length=100)
    account_no = forms.CharField(label=_("account number"), max_length=40)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


@admin.register(CreditRefund)
class CreditRefundAdmin(ReadOnlyAdmin):
    list_display = [
        "refund_no", "unit", "amount", "account_bank", "account_no", "state", "applied_at",
        "first_approver", "approver", "paid_on", "payout_ref",
    ]  # fmt: skip
    list_filter = ["state"]
    search_fields = ["=refund_no", "=unit__uscc"]
    list_select_related = ["unit", "first_approver", "approver"]
    fields = [*list_display, "account_name", "note", "applied_by", "unit_credit", "audit_trail"]
    readonly_fields = fields
    actions = ["approve", "reject", "pay", "withdraw"]

    def has_add_permission(self, request):
        return request.user.has_perm("replenish.add_creditrefund")

    def has_approve_permission(self, request):
        return request.user.has_perm("replenish.approve_refund")

    def has_pay_permission(self, request):
        return request.user.has_perm("replenish.pay_refund")

    def has_withdraw_permission(self, request):
        return request.user.has_perm("replenish.add_creditrefund")

    @admin.display(description=_("the unit's credit now"))
    def unit_credit(self, refund):
        return unit_credit(refund.unit_id)

    @admin.display(description=_("audit trail"))
    def audit_trail(self, refund):
        return _audit_trail("creditrefund", refund.pk)

    def add_view(self, request, form_url="", extra_context=None):
        """Collection records a unit's refund application (made at the counter or on paper)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RefundRecordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            unit = Unit.objects.filter(uscc=data["uscc"].strip().upper()).first()
            if unit is None:
                form.add_error("uscc", _("There is no such unit."))
            else:
                try:
                    refund = refund_apply(
                        unit_id=unit.pk, amount=data["amount"], account_name=data["account_name"],
                        account_bank=data["account_bank"], account_no=data["account_no"],
                        note=data["note"], actor=request.user,
                    )  # fmt: skip
                except ValidationError as exc:
                    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    self.message_user(
                        request, _("Refund %(no)s recorded.") % {"no": refund.refund_no}
                    )
                    return redirect("admin:replenish_creditrefund_changelist")
        return TemplateResponse(
            request,
            "admin/replenish/form_page.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record a refund application"),
                "form": form,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Approve"), permissions=["approve"])
    def approve(self, request, queryset):
        run_each(
            self, request, queryset, lambda r: refund_approve(refund_id=r.pk, actor=request.user)
        )

    @admin.action(description=_("Do not approve (with a reason)"), permissions=["approve"])
    def reject(self, request, queryset):
        return form_action(
            self, request, queryset, form_class=ReasonForm,
            title=_("Why are these refunds not approved?"),
            apply=lambda r, data: refund_reject(
                refund_id=r.pk, reason=data["reason"], actor=request.user
            ),
        )  # fmt: skip

    @admin.action(description=_("Record paid out"), permissions=["pay"])
    def pay(self, request, queryset):
        return form_action(
            self, request, queryset, form_class=PayOutForm,
            title=_("When and how was the refund paid out?"),
            apply=lambda r, data: refund_pay(
                refund_id=r.pk, paid_on=data["paid_on"], payout_ref=data["payout_ref"],
                actor=request.user,
            ),
        )  # fmt: skip

    @admin.action(description=_("Withdraw for the unit"), permissions=["withdraw"])
    def withdraw(self, request, queryset):
        run_each(
            self, request, queryset, lambda r: refund_withdraw(refund_id=r.pk, actor=request.user)
        )


@admin.register(CreditOffset)
class CreditOffsetAdmin(ReadOnlyAdmin):
    list_display = ["case", "unit", "amount", "offset_on", "automatic", "actor_label",
                    "reversed_amount"]  # fmt: skip
    list_filter = ["automatic", "offset_on"]
    search_fields = ["=case__case_no", "=unit__uscc"]
    list_select_related = ["case", "unit"]
    actions = ["offset_again"]

    def has_offset_permission(self, request):
        return request.user.has_perm("replenish.offset_credit")

    @admin.action(description=_("Offset the unit's credit now"), permissions=["offset"])
    def offset_again(self, request, queryset):
        units = sorted(set(queryset.values_list("unit_id", flat=True)))
        run_each(
            self, request, Unit.objects.filter(pk__in=units),
            lambda u: credit_offset(unit_id=u.pk, actor=request.user),
        )  # fmt: skip


class CreditOffsetInline(admin.TabularInline):
    """What the unit's credit paid of the case, on the case page."""

    model = CreditOffset
    template = READ_ONLY_TABULAR
    extra = 0
    can_delete = False
    fields = ["offset_on", "amount", "automatic", "actor_label", "reversed_amount"]
    readonly_fields = fields
    verbose_name_plural = _("paid by the unit's credit")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("replenish.view_arrearscase")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _refunds(state: str):
    def refunds():
        return CreditRefund.objects.filter(state=state)

    return refunds


register(
    Queue(
        key="refunds_to_approve", department=FINANCE, label=_("Refunds to approve"),
        permission="replenish.approve_refund", queryset=_refunds(RefundState.APPLIED),
        changelist="admin:replenish_creditrefund_changelist", query="state__exact=applied",
        oldest_first="state_changed_at",
    )
)  # fmt: skip
register(
    Queue(
        key="refunds_second_approval", department=FINANCE,
        label=_("Refunds waiting for a second approver"),
        permission="replenish.approve_refund", queryset=_refunds(RefundState.FIRST_APPROVED),
        changelist="admin:replenish_creditrefund_changelist",
        query="state__exact=first_approved", oldest_first="state_changed_at",
    )
)  # fmt: skip
register(
    Queue(
        key="refunds_to_pay", department=FINANCE, label=_("Refunds to pay out"),
        permission="replenish.pay_refund", queryset=_refunds(RefundState.APPROVED),
        changelist="admin:replenish_creditrefund_changelist", query="state__exact=approved",
        oldest_first="state_changed_at",
    )
)  # fmt: skip
