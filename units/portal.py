"""Portal users: who a user of the portal acts for, and how staff create one."""

from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, require_permission
from units.models import Counterparty, PortalMembership, Unit

# The group of every portal user (migration units/0004): it may acknowledge a notice.
PORTAL_GROUP = "单位门户用户"


def membership_of(user) -> PortalMembership | None:
    """The portal membership of a signed-in user, or None (staff, anonymous, unknown), with the
    unit or counterparty it acts for (every portal page names it)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # The sign-in backend (units.backends) reads it with the user on every signed-in request.
    membership = get_user_model().portal_membership.related
    if membership.is_cached(user):
        return cast(PortalMembership | None, membership.get_cached_value(user))
    return (
        PortalMembership.objects.filter(user_id=user.pk)
        .select_related("unit", "counterparty")
        .first()
    )


def portal_user_create(
    *,
    username: str,
    password: str,
    actor: Actor,
    unit_id: int | None = None,
    counterparty_id: int | None = None,
) -> PortalMembership:
    """Create a portal user (no staff rights) acting for one unit or one counterparty."""
    require_permission(actor, "units.add_portalmembership", action=_("create a portal user"))
    if (unit_id is None) == (counterparty_id is None):
        raise ValidationError(_("A portal user acts for one unit or one counterparty."))
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": _("The user name is required.")})
    with transaction.atomic():
        if unit_id is not None and not Unit.objects.filter(pk=unit_id).exists():
            raise ValidationError({"unit": _("There is no such unit.")})
        if (
            counterparty_id is not None
            and not Counterparty.objects.filter(pk=counterparty_id).exists()
        ):
            raise ValidationError({"counterparty": _("There is no such counterparty.")})
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("This user name is taken.")})
        user = User(username=username, is_staff=False, is_superuser=False)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=PORTAL_GROUP))
        return PortalMembership.objects.create(
            user=user,
            unit_id=unit_id,
            counterparty_id=counterparty_id,
            created_by=actor_label(actor),
        )
