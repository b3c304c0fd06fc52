"""Who does something: a staff or portal user, or the system itself (a command, the scheduler).

Every service takes an `actor`; the audit trail and the ledger record it.
"""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class System:
    """The product acting on its own behalf: a management command or a scheduled job."""

    name: str

    def __str__(self) -> str:
        return f"system:{self.name}"


# A user is the project's user model (django.contrib.auth's: permissions and groups).
Actor = User | System


def actor_user(actor: Actor) -> User | None:
    return None if isinstance(actor, System) else actor


def actor_label(actor: Actor) -> str:
    return str(actor) if isinstance(actor, System) else actor.get_username()


def require_permission(actor: Actor, permission: str, *, action: str | None = None) -> None:
    """Refuse a user without the permission; the system acts under the rules of the workflow.

    `action` says what was refused ("record a payment"), so the message is clear to the user.
    """
    if isinstance(actor, System):
        return
    if not actor.is_active or not actor.has_perm(permission):
        if action:
            raise PermissionDenied(
                _("%(user)s may not %(action)s (needs permission %(permission)s).")
                % {"user": actor.get_username(), "action": action, "permission": permission}
            )
        raise PermissionDenied(
            _("%(user)s may not do this (needs permission %(permission)s).")
            % {"user": actor.get_username(), "permission": permission}
        )
