"""The one place where a declared transition is carried out and recorded.

Services lock the row first (`select_for_update`), then call `transition_apply`, which checks the
declaration (source, conditions, permission), runs it, saves only the fields it changed and writes
the audit row in the same transaction. `transition_apply_bulk` does the same for a set of rows
with one UPDATE and one INSERT, taking source and target from the same declaration.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import FSMFieldMixin, can_proceed, has_transition_perm

from replenish.actors import Actor, System, actor_label, actor_user
from replenish.models import AuditEntry


def _state_field(model: type[models.Model]) -> FSMFieldMixin:
    return next(f for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin))


def _subject(obj: models.Model) -> str:
    return obj._meta.model_name.removeprefix("arrears")


def _case_field(model: type[models.Model]) -> str:
    return "pk" if model._meta.model_name == "arrearscase" else "case_id"


def _case_id_of(obj: models.Model) -> int:
    return getattr(obj, _case_field(type(obj)))


def transition_apply(
    obj: models.Model,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    audit_case_ids: list[int] | None = None,
    **kwargs: Any,
) -> Any:
    """Run transition `name` on `obj`, which the caller has locked inside a transaction.

    The audit row goes to the object's case; an object that belongs to no case (a unit) names
    the cases whose trail records the change in `audit_case_ids`, one row each.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition_apply must run inside the service's transaction")
    method = getattr(obj, name)
    field = _state_field(type(obj))
    from_state = getattr(obj, field.attname)
    user = actor_user(actor)
    if user is not None and not has_transition_perm(method, user):
        # has_transition_perm is also False when a condition fails: that is not a permission
        # problem, so it must not be reported as one.
        if not can_proceed(method):
            raise ValidationError(_not_allowed(obj, name, from_state))
        raise PermissionDenied(
            _("%(user)s may not %(action)s.") % {"user": actor_label(actor), "action": name}
        )
    if not can_proceed(method):
        raise ValidationError(_not_allowed(obj, name, from_state))

    before = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    result = method(**kwargs)
    changed = [
        f.attname for f in obj._meta.concrete_fields if getattr(obj, f.attname) != before[f.attname]
    ]
    if hasattr(obj, "state_changed_at"):
        obj.state_changed_at = timezone.now()
        changed.append("state_changed_at")
    obj.save(update_fields=changed)
    case_ids = [_case_id_of(obj)] if audit_case_ids is None else list(audit_case_ids)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            case_id=case_id,
            subject=_subject(obj),
            subject_id=obj.pk,
            transition=name,
            from_state=from_state,
            to_state=getattr(obj, field.attname),
            actor=user,
            actor_label=actor_label(actor),
            reason=reason,
        )
        for case_id in case_ids
    )
    return result


def _not_allowed(obj: models.Model, name: str, state: str) -> str:
    return _("%(object)s is %(state)s: %(action)s is not possible from that state.") % {
        "object": f"{obj._meta.verbose_name} {obj}",
        "state": state,
        "action": name,
    }


def declared_transition(model: type[models.Model], name: str) -> tuple[set[str], str]:
    """The sources and the (single) target of a transition, read from its declaration."""
    field = _state_field(model)
    sources, targets = set(), set()
    for t in field.get_all_transitions(model):
        if t.name == name:
            sources.add(t.source)
            targets.add(t.target)
    if len(targets) != 1:
        raise ValueError(f"{model.__name__}.{name} has no single target: {targets}")
    return sources, targets.pop()


def transition_apply_bulk(
    queryset: models.QuerySet,
    name: str,
    *,
    actor: System,
    reason: str = "",
) -> list[int]:
    """Carry out transition `name` on every row of `queryset` that is in one of its sources.

    For the scheduler's set-based work: unconditional transitions without permission (the system
    acts), applied with one locking SELECT, one UPDATE and one INSERT of audit rows per call.
    Returns the primary keys moved.
    """
    if not isinstance(actor, System):
        raise PermissionDenied("bulk transitions are the system's")
    model = queryset.model
    sources, target = declared_transition(model, name)
    field = _state_field(model)
    with transaction.atomic():
        rows = list(
            queryset.filter(**{f"{field.attname}__in": sources})
            .select_for_update()
            .order_by("pk")
            .values_list("pk", field.attname, _case_field(model))
        )
        if not rows:
            return []
        pks = [pk for pk, _state, _case_id in rows]
        now = timezone.now()
        updates = {field.attname: target}
        if any(f.attname == "state_changed_at" for f in model._meta.concrete_fields):
            updates["state_changed_at"] = now
        model._base_manager.filter(pk__in=pks, **{f"{field.attname}__in": sources}).update(
            **updates
        )
        AuditEntry.objects.bulk_create(
            AuditEntry(
                case_id=case_id,
                subject=model._meta.model_name.removeprefix("arrears"),
                subject_id=pk,
                transition=name,
                from_state=state,
                to_state=target,
                actor_label=actor_label(actor),
                at=now,
                reason=reason,
            )
            for pk, state, case_id in rows
        )
    return pks


__all__ = [
    "PermissionDenied",
    "ValidationError",
    "declared_transition",
    "transition_apply",
    "transition_apply_bulk",
]
