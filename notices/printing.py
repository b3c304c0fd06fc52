"""Bulk printing for delivery by post: the selected notices, or every notice issued and not yet
delivered, as one PDF, each notice followed by its delivery receipt (送达回证) with the unit's
postal address filled in. The same documents as one notice's PDF (`notices.documents`)."""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notices.deadlines import working_days_back
from notices.documents import Document, notice_documents, pdf_render
from notices.models import Notice, NoticeState, UnitContact

# One PDF holds at most this many notices (two pages or more each): a print run of a region's
# thousands is printed in parts, by region or by the list's filters.
BULK_PRINT_MAX = 500


def notices_undelivered_late(today: date | None = None) -> QuerySet[Notice]:
    """Issued more than NOTICE_UNDELIVERED_WORKING_DAYS working days ago and still not
    delivered: collection's queue, to deliver by post or by hand."""
    today = today or timezone.localdate()
    issued_by = working_days_back(today, settings.NOTICE_UNDELIVERED_WORKING_DAYS)
    return Notice.objects.filter(state=NoticeState.ISSUED, issued_on__lte=issued_by)


def undelivered_notices() -> QuerySet[Notice]:
    """Issued and not yet delivered, in the order a post room packs them: by region, then
    number."""
    return Notice.objects.filter(state=NoticeState.ISSUED).order_by("region_code", "number")


def notices_print(notices: Iterable[Notice], *, language: str | None = None) -> bytes:
    """One PDF of the notices, each followed by its delivery receipt. Two queries for the
    notices and their units' postal addresses, whatever their number."""
    notices = list(notices)
    if not notices:
        raise ValidationError(_("There is no notice to print."))
    if len(notices) > BULK_PRINT_MAX:
        raise ValidationError(
            _(
                "%(count)s notices are too many for one PDF: print at most %(max)s at a time "
                "(filter the list, by region for one)."
            )
            % {"count": len(notices), "max": BULK_PRINT_MAX}
        )
    unit_of = dict(
        Notice.objects.filter(pk__in=[n.pk for n in notices]).values_list("pk", "case__unit_id")
    )
    addresses = dict(
        UnitContact.objects.filter(unit_id__in=set(unit_of.values())).values_list(
            "unit_id", "postal_address"
        )
    )
    documents: list[Document] = []
    for notice in notices:
        documents += notice_documents(
            notice,
            language=language or settings.LANGUAGE_CODE,
            address=addresses.get(unit_of[notice.pk], ""),
        )
    return pdf_render(*documents)
