"""Declared payments as the collection department's work: the columns of the queue "declared
payments to accept" (what the case owes today, the expected overpayment) and the unit's proof,
shown inline on the payment's page and served through a permission-checked view.

The proof view is small and self-contained so that a general document-serving view can take it
over: it answers only staff who may see payments (collection, finance, audit), and nobody else.
"""

import mimetypes
from pathlib import PurePosixPath

from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from portal.models import PaymentProof
from replenish.models import Payment
from replenish.selectors import owed_by_case

INLINE_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
                ".jpeg": "image/jpeg"}  # fmt: skip


class PaymentChangeList(ChangeList):
    """The payments' list, with what each payment's case owes today read for the whole page at
    once (one query, not one per row)."""

    def get_results(self, request):
        super().get_results(request)
        case_ids = {p.case_id for p in self.result_list}
        owed = owed_by_case(case_ids, as_of=timezone.localdate())
        for payment in self.result_list:
            found = owed.get(payment.case_id)
            payment.case_owes_today = found.total if found else None


def case_owes_today(payment: Payment):
    owes = getattr(payment, "case_owes_today", None)
    return "-" if owes is None else owes


def expected_overpayment(payment: Payment):
    overpayment = payment.expected_overpayment
    if overpayment is None:
        return "-"
    return format_html('<strong class="overpayment">{}</strong>', overpayment)


def proof_of(payment: Payment) -> PaymentProof | None:
    return PaymentProof.objects.filter(payment_id=payment.pk).first()


def proof_shown(payment: Payment):
    """The proof inline: an image as such, a PDF in a frame, each with a link to open it."""
    proof = proof_of(payment)
    if proof is None:
        return _("no proof uploaded")
    url = reverse("admin:replenish_payment_proof", args=[payment.pk])
    name = PurePosixPath(proof.file.name).name
    if PurePosixPath(proof.file.name).suffix.lower() == ".pdf":
        return format_html(
            '<iframe class="proof" src="{}" title="{}" style="width:100%;height:560px;'
            'border:1px solid #ccc"></iframe><br><a href="{}" target="_blank">{}</a>',
            url, name, url, name,
        )  # fmt: skip
    return format_html(
        '<a href="{}" target="_blank"><img class="proof" src="{}" alt="{}" '
        'style="max-width:100%;max-height:560px;border:1px solid #ccc"></a><br>'
        '<a href="{}" target="_blank">{}</a>',
        url, url, name, url, name,
    )  # fmt: skip


@xframe_options_sameorigin
def proof_view(request, payment_id: int):
    """The file of a payment's proof, inline, to staff who may see payments."""
    if not request.user.has_perm("replenish.view_payment"):
        raise PermissionDenied
    proof = PaymentProof.objects.filter(payment_id=payment_id).first()
    if proof is None or not proof.file:
        raise Http404
    name = PurePosixPath(proof.file.name).name
    suffix = PurePosixPath(name).suffix.lower()
    content_type = INLINE_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
    if suffix not in INLINE_TYPES:
        # Not a type the portal accepts: never rendered by the browser, only downloaded.
        return FileResponse(
            proof.file.open("rb"), as_attachment=True, filename=name,
            content_type="application/octet-stream",
        )  # fmt: skip
    response = FileResponse(proof.file.open("rb"), filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response
