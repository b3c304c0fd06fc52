"""A forgotten portal password: a one-time code sent through the existing message channels
(`notices.outbox`: e-mail, or SMS through the pluggable `SMS_BACKEND`) to the address the
agency holds for the unit (its "Unit contact"), never to one the requester types in; then a new
password with the code.

Lockout rules: a code expires after `PASSWORD_RESET_CODE_MINUTES`, is void after
`PASSWORD_RESET_MAX_ATTEMPTS` wrong entries, is used once; at most `PASSWORD_RESET_PER_HOUR` codes
are sent to a user an hour. The answer to a request never says whether the user exists.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

# django-axes ships no type information (no stubs, no py.typed marker).
from axes.utils import reset as axes_reset  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notices.messages import Kind
from notices.models import Channel, UnitContact
from notices.outbox import Outgoing, notifications_create
from portal.models import PasswordResetCode
from units.models import PortalMembership

CHANNELS = (Channel.EMAIL, Channel.SMS)


@dataclass(frozen=True)
class ResetRequested:
    """What the requester is told: only where a code went, masked, if one went."""

    sent_to: str = ""


def _mask(channel: str, address: str) -> str:
    if channel == Channel.SMS:
        return f"{address[:3]}****{address[-4:]}"
    name, _at, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def _contact_of(user) -> tuple[int, UnitContact] | None:
    member = PortalMembership.objects.filter(user=user).select_related("counterparty").first()
    if member is None:
        return None
    unit_id = member.unit_id or (member.counterparty.unit_id if member.counterparty else None)
    if unit_id is None:  # a membership belongs to a unit or to a counterparty of one
        return None
    contact = UnitContact.objects.filter(unit_id=unit_id).select_related("unit").first()
    return (unit_id, contact) if contact else None


def password_reset_request(*, username: str, channel: str, now=None) -> ResetRequested:
    """Send a code to the unit's registered address on `channel` (e-mail or SMS)."""
    now = now or timezone.now()
    if channel not in CHANNELS:
        raise ValidationError({"channel": _("Choose e-mail or SMS.")})
    user = (
        get_user_model()
        .objects.filter(username__iexact=(username or "").strip(), is_active=True, is_staff=False)
        .first()
    )
    if user is None:
        return ResetRequested()
    found = _contact_of(user)
    if found is None:
        return ResetRequested()
    unit_id, contact = found
    address = contact.email if channel == Channel.EMAIL else contact.mobile
    if not address:
        return ResetRequested()
    with transaction.atomic():
        # The user's row is the lock: two requests at once send one code each, within the limit.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        recent = PasswordResetCode.objects.filter(
            user=user, created_at__gt=now - timedelta(hours=1)
        ).count()
        if recent >= settings.PASSWORD_RESET_PER_HOUR:
            raise ValidationError(
                _("Too many codes were asked for this user in the last hour: try again later.")
            )
        # A new code voids the earlier ones.
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = PasswordResetCode.objects.create(
            user=user,
            channel=channel,
            code_hash=make_password(code),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.PASSWORD_RESET_CODE_MINUTES),
        )
        notifications_create(
            [
                Outgoing(
                    dedupe_key=f"password-reset:{row.pk}:{channel}",
                    kind=Kind.PASSWORD_RESET,
                    channel=channel,
                    unit_id=unit_id,
                    address=address,
                    context={
                        "unit_name": contact.unit.name,
                        "username": user.get_username(),
                        "code": code,
                        "minutes": str(settings.PASSWORD_RESET_CODE_MINUTES),
                        "agency_name": settings.AGENCY_NAME,
                        "agency_contact": settings.AGENCY_CONTACT,
                    },
                )
            ],
            dispatch="each",
            now=now,
        )
    return ResetRequested(sent_to=_mask(channel, address))


def password_reset_confirm(*, username: str, code: str, password: str, now=None) -> None:
    """Set the new password if the code is the user's live one; a wrong code counts against it."""
    now = now or timezone.now()
    refused = ValidationError(
        {"code": _("The code is wrong or no longer valid. Ask for a new code.")}
    )
    user = (
        get_user_model()
        .objects.filter(username__iexact=(username or "").strip(), is_active=True, is_staff=False)
        .first()
    )
    if user is None:
        raise refused
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    with transaction.atomic():
        row = (
            PasswordResetCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= settings.PASSWORD_RESET_MAX_ATTEMPTS:
            raise refused
        if not check_password((code or "").strip(), row.code_hash):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            # The count must survive the refusal: the block commits it, then the code refuses.
            wrong = row
        else:
            wrong = None
            row.used_at = now
            row.save(update_fields=["used_at"])
            user.set_password(password)
            user.save(update_fields=["password"])
    if wrong is not None:
        left = settings.PASSWORD_RESET_MAX_ATTEMPTS - wrong.attempts
        if left <= 0:
            raise ValidationError(
                {
                    "code": _(
                        "The code was entered wrongly too often and is void. Ask for a new code."
                    )
                }
            )
        raise ValidationError(
            {"code": _("The code is wrong: %(left)s tries left.") % {"left": left}}
        )
    # A lockout of failed sign-ins ends once the password is reset.
    axes_reset(username=user.get_username())
