from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import ReadOnlyAdmin
from portal.models import PaymentProof
from replenish.labels import actor_display
from units.models import PortalMembership


@admin.register(PortalMembership)
class PortalMembershipAdmin(ReadOnlyAdmin):
    """Read-only list: portal users are created on the unit's page (units.portal)."""

    list_display = ["user", "unit", "counterparty", "created_at", "by"]
    fields = list_display
    readonly_fields = ["by"]

    @admin.display(description=_("created by"), ordering="created_by")
    def by(self, membership):
        return actor_display(membership.created_by)

    list_select_related = ["user", "unit", "counterparty"]
    search_fields = ["user__username", "unit__name", "unit__uscc", "counterparty__name"]


@admin.register(PaymentProof)
class PaymentProofAdmin(ReadOnlyAdmin):
    list_display = ["payment", "file", "uploaded_at", "uploaded_by"]
    list_select_related = ["payment"]
