"""The sign-in backend: Django's `ModelBackend` (user name and password, the user's groups and
permissions), which reads a signed-in user together with their portal membership and the unit or
counterparty it acts for. Every portal page asks for the membership (`units.portal.
membership_of`): one query a page, not two; for staff the membership is an empty join."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

MEMBERSHIP = ("portal_membership__unit", "portal_membership__counterparty")


class UserAndMembershipBackend(ModelBackend):
    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related(*MEMBERSHIP).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
