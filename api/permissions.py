from rest_framework.permissions import BasePermission

from api.throttling import UserSlidingWindowThrottle
from units.portal import membership_of


class IsUnitMember(BasePermission):
    """A unit's token: its user is a portal member acting for a unit."""

    message = "This credential is not a unit's."

    def has_permission(self, request, view):
        member = membership_of(request.user)
        if member is None or member.unit_id is None:
            return False
        request.member = member
        return True


class IsFinanceSystem(BasePermission):
    """The finance system's service credential: a user that may add arrivals (finance)."""

    message = "This credential is not the finance system's."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("replenish.add_arrival"))


class UnitThrottle(UserSlidingWindowThrottle):
    """Requests per unit credential (its user), counted in the default cache."""

    scope = "unit"


class FinanceThrottle(UserSlidingWindowThrottle):
    scope = "finance"
