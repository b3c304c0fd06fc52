"""The one place where a declared transition is carried out and recorded.

Services lock the row first (`select_for_update`), then call `transition_apply`, which checks the
declaration (source, conditions, permission), runs it, saves only the fields it changed and writes
the audit row in the same transaction. `transition_apply_bulk` does the same for a set of rows
with one UPDATE and one INSERT, taking source and target from the same declaration.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import FSMFieldMixin, can_proceed, has_transition_perm

from replenish.actors import Actor, actor_label, actor_user
from replenish.models import AuditEntry
from replenish.transition_labels import state_label, transition_label


def _state_field(model: type[models.Model]) -> FSMFieldMixin:
    return next(f for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin))


def _subject(obj: models.Model) -> str:
    return obj._meta.model_name.removeprefix("arrears")


def _case_column(model: type[models.Model]) -> str | None:
    """Where a subject's case is: the case itself, its `case` field, or nowhere (None)."""
    if model._meta.model_name == "arrearscase":
        return "pk"
    if any(f.name == "case" for f in model._meta.concrete_fields):
        return "case_id"
    return None


def _case_id_of(obj: models.Model) -> int | None:
    """The case an audit row belongs to; None for a subject without one yet (an arrival waiting
    in the unmatched queue), whose rows are found by subject and subject id."""
    column = _case_column(type(obj))
    return None if column is None else getattr(obj, column)


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
            _("%(user)s may not %(action)s.")
            % {"user": actor_label(actor), "action": transition_label(name)}
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


def audit_record(
    obj: models.Model, name: str, *, actor: Actor, reason: str = "", from_state: str = ""
) -> AuditEntry:
    """The audit row of an event that is not a declared transition: a subject coming into being
    (`record`, `receive`), in the state it was created in."""
    field = _state_field(type(obj))
    return AuditEntry.objects.create(
        case_id=_case_id_of(obj),
        subject=_subject(obj),
        subject_id=obj.pk,
        transition=name,
        from_state=from_state,
        to_state=getattr(obj, field.attname),
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        reason=reason,
    )


def _not_allowed(obj: models.Model, name: str, state: str) -> str:
    return _("%(object)s is %(state)s: %(action)s is not possible from that state.") % {
        "object": f"{obj._meta.verbose_name} {obj}",
        "state": state_label(obj, _state_field(type(obj)).name, state),
        "action": transition_label(name),
    }


def _declarations(model: type[models.Model], name: str) -> list:
    return [t for t in _state_field(model).get_all_transitions(model) if t.name == name]


def declared_transition(model: type[models.Model], name: str) -> tuple[set[str], str]:
    """The sources and the (single) target of a transition, read from its declaration."""
    sources, targets = set(), set()
    for t in _declarations(model, name):
        sources.add(t.source)
        targets.add(t.target)
    if len(targets) != 1:
        raise ValueError(f"{model.__name__}.{name} has no single target: {targets}")
    return sources, targets.pop()


def _bulk_actor_checked(model: type[models.Model], name: str, actor: Actor):
    """The user behind `actor` (None for the system), refused unless they hold the permission
    the transition declares."""
    user = actor_user(actor)
    if user is not None:
        needed = sorted({t.permission for t in _declarations(model, name) if t.permission})
        if not user.is_active or not all(user.has_perm(p) for p in needed):
            raise PermissionDenied(
                _("%(user)s may not %(action)s.")
                % {"user": actor_label(actor), "action": transition_label(name)}
            )
    return user


def transition_apply_bulk(
    queryset: models.QuerySet,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    conditions: models.Q | None = None,
) -> list[int]:
    """Carry out transition `name` on every row of `queryset` that is in one of its sources.

    For set-based work (the scheduler, imports, the adjustment run), applied with one locking
    SELECT, one UPDATE and one INSERT of audit rows per call. Only the state changes: the
    transition's method body is not run. A user must hold the permission the transition declares
    (the system acts under the rules of the workflow). A transition that declares conditions
    needs them restated as a filter in `conditions`, so no row escapes them. Returns the primary
    keys moved.
    """
    model = queryset.model
    sources, target = declared_transition(model, name)
    declarations = _declarations(model, name)
    user = _bulk_actor_checked(model, name, actor)
    if any(t.conditions for t in declarations) and conditions is None:
        raise ValueError(f"{model.__name__}.{name} has conditions: pass them as a filter")
    field = _state_field(model)
    case_column = _case_column(model)
    with transaction.atomic():
        selected = queryset.filter(**{f"{field.attname}__in": sources})
        if conditions is not None:
            selected = selected.filter(conditions)
        rows = list(
            selected.select_for_update()
            .order_by("pk")
            .values_list("pk", field.attname, case_column or "pk")
        )
        if not rows:
            return []
        pks = [pk for pk, _state, _case in rows]
        now = timezone.now()
        updates = {field.attname: target}
        if any(f.attname == "state_changed_at" for f in model._meta.concrete_fields):
            updates["state_changed_at"] = now
        model._base_manager.filter(pk__in=pks, **{f"{field.attname}__in": sources}).update(
            **updates
        )
        AuditEntry.objects.bulk_create(
            AuditEntry(
                case_id=case_id if case_column else None,
                subject=model._meta.model_name.removeprefix("arrears"),
                subject_id=pk,
                transition=name,
                from_state=state,
                to_state=target,
                actor=user,
                actor_label=actor_label(actor),
                at=now,
                reason=reason,
            )
            for pk, state, case_id in rows
        )
    return pks


def transition_record_created(
    queryset: models.QuerySet,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    at=None,
) -> int:
    """Record transition `name` for rows a bulk insert created directly in its target state.

    The set-based counterpart of creating rows in a transition's source and moving them with
    `transition_apply_bulk` at once, without the UPDATE of every row just inserted: the caller
    inserts them in the declared target (read with `declared_transition`), and this writes their
    audit rows, from the declared source, with one INSERT … SELECT. The transition must have a
    single source and no conditions. Returns the number of rows recorded.
    """
    model = queryset.model
    sources, target = declared_transition(model, name)
    if len(sources) != 1 or any(t.conditions for t in _declarations(model, name)):
        raise ValueError(f"{model.__name__}.{name} needs a single source and no conditions")
    user = _bulk_actor_checked(model, name, actor)
    case_column = _case_column(model)
    field = _state_field(model)
    rows = queryset.filter(**{field.attname: target}).values_list(
        "pk", case_column or models.Value(None, output_field=models.BigIntegerField())
    )
    select, params = rows.query.sql_with_params()
    audit = AuditEntry._meta
    columns = ("subject", "transition", "from_state", "to_state", "actor_id", "actor_label")
    columns += ("at", "reason", "subject_id", "case_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {audit.db_table} ({', '.join(columns)}) "
            f"SELECT %s, %s, %s, %s, %s, %s, %s, %s, created.* FROM ({select}) created",
            [
                model._meta.model_name.removeprefix("arrears"),
                name,
                next(iter(sources)),
                target,
                user.pk if user is not None else None,
                actor_label(actor),
                connection.ops.adapt_datetimefield_value(at or timezone.now()),
                reason,
                *params,
            ],
        )
        return cursor.rowcount


def pks_in_order(objs: Iterable[models.Model]) -> list[int]:
    return sorted(o.pk for o in objs)


__all__ = [
    "PermissionDenied",
    "ValidationError",
    "audit_record",
    "declared_transition",
    "transition_apply",
    "transition_apply_bulk",
    "transition_record_created",
]
