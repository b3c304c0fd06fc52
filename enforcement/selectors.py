"""Reads of the enforcement dossiers."""

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from enforcement.models import OPEN_DOSSIER_STATES, Dossier
from notices.models import DELIVERED_NOTICE_STATES
from replenish.models import ArrearsCase, CaseState


def overdue_without_dossier() -> QuerySet:
    """The collection department's queue: overdue cases that no open dossier works, the one
    overdue longest first, with the time limit of the notice they did not pay."""
    open_dossier = Dossier.objects.filter(case=OuterRef("pk"), state__in=OPEN_DOSSIER_STATES)
    return (
        ArrearsCase.objects.filter(state=CaseState.OVERDUE)
        .filter(~Exists(open_dossier))
        .annotate(
            notice_deadline=Max(
                "notices__deadline", filter=Q(notices__state__in=DELIVERED_NOTICE_STATES)
            )
        )
        .order_by("state_changed_at", "case_no")
    )
