"""The unit's credit in the portal: what it has, each use of it (offsets, refunds), its refund
applications and their state; it applies for a refund and withdraws an application not yet
approved. Every read is scoped to the member's unit; the services check the member again."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.views import member_required
from replenish.models import CreditEntry, CreditRefund
from replenish.services.credit import (
    refund_apply,
    refund_withdraw,
    unit_credit,
    unit_credit_pending,
)


class RefundApplyForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("amount"), max_digits=14, decimal_places=2, min_value=0
    )
    account_name = forms.CharField(label=gettext_lazy("account name"), max_length=100)
    account_bank = forms.CharField(label=gettext_lazy("bank"), max_length=100)
    account_no = forms.CharField(label=gettext_lazy("account number"), max_length=40)
    note = forms.CharField(label=gettext_lazy("note"), max_length=500, required=False)


def _context(member, form):
    unit_id = member.unit_id
    entries = (
        CreditEntry.objects.filter(unit_id=unit_id)
        .select_related("case", "arrival", "refund")
        .order_by("-effective_on", "-pk")
    )
    return {
        "unit": member.unit,
        "credit": unit_credit(unit_id),
        "pending": unit_credit_pending(unit_id),
        "entries": entries,
        "refunds": CreditRefund.objects.filter(unit_id=unit_id).order_by("-applied_at", "-pk"),
        "form": form,
    }


@member_required()
def credit(request):
    member = request.member
    form = RefundApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = refund_apply(
                unit_id=member.unit_id,
                amount=data["amount"],
                account_name=data["account_name"],
                account_bank=data["account_bank"],
                account_no=data["account_no"],
                note=data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Refund %(number)s of %(amount)s applied for; finance will examine it.")
                % {"number": refund.refund_no, "amount": refund.amount},
            )
            return HttpResponseRedirect(reverse("portal:credit"))
    return render(request, "portal/credit.html", _context(member, form))


@require_POST
@member_required()
def refund_withdraw_view(request, pk: int):
    refund = get_object_or_404(CreditRefund, pk=pk, unit_id=request.member.unit_id)
    try:
        refund_withdraw(refund_id=refund.pk, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request, _("Refund application %(number)s withdrawn.") % {"number": refund.refund_no}
        )
    return HttpResponseRedirect(reverse("portal:credit"))
