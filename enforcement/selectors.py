"""Reads of the enforcement dossiers."""

from django.db.models import Exists, OuterRef, QuerySet

from enforcement.models import OPEN_DOSSIER_STATES, Dossier
from replenish.models import ArrearsCase, CaseState


def overdue_without_dossier() -> QuerySet:
    """The collection department's queue: overdue cases that no open dossier works, the one
    overdue longest first."""
    open_dossier = Dossier.objects.filter(case=OuterRef("pk"), state__in=OPEN_DOSSIER_STATES)
    return (
        ArrearsCase.objects.filter(state=CaseState.OVERDUE)
        .filter(~Exists(open_dossier))
        .order_by("state_changed_at", "case_no")
    )
