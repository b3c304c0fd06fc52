"""The stored documents a portal user may read through `replenish.documents_serving`: the
scans of the agreements the portal shows it, and a liquidation group's own write-off
documents."""

from portal import selectors
from replenish.documents_serving import document_member_scope_register
from replenish.models import Agreement, WriteOffDocument


def register_member_documents() -> None:
    document_member_scope_register(
        "agreement-scan",
        lambda member: Agreement.objects.filter(pk__in=selectors.agreements(member).values("pk")),
    )
    document_member_scope_register(
        "writeoff-document",
        lambda member: (
            WriteOffDocument.objects.filter(application__applicant_id=member.counterparty_id)
            if member.counterparty_id
            else WriteOffDocument.objects.none()
        ),
    )
