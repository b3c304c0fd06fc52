"""The one place where a declared transition is carried out and recorded.

Services lock the row first (`select_for_update`), then call `transition_apply`, which checks the
declaration (source, conditions, permission), runs it, saves only the fields it changed and writes
the audit row in the same transaction. `transition_apply_bulk` does the same for a set of rows
with one UPDATE and one INSERT, taking source and target from the same declaration.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import FSMFieldMixin, can_proceed, has_transition_perm

from kernel.actors import Actor, actor_label, actor_user
from kernel.sql import json_prepared, rows_insert
from replenish.models import AuditEntry
from replenish.reasons import Reason, reason_split
from replenish.transition_labels import state_label, transition_label


def _state_field(model: type[models.Model]) -> FSMFieldMixin:
    field: FSMFieldMixin = next(
        f for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin)
    )
    return field


def _subject(obj: models.Model) -> str:
    return _subject_of(type(obj))


def _subject_of(model: type[models.Model]) -> str:
    """What the audit trail calls a model's rows: "case", "notice", "arrival", …"""
    return model._meta.label_lower.split(".")[-1].removeprefix("arrears")


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
    reason: str | Reason = "",
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
        _audit_entry(obj, name, actor=actor, reason=reason, from_state=from_state, case_id=case_id)
        for case_id in case_ids
    )
    return result


def _audit_entry(
    obj: models.Model,
    name: str,
    *,
    actor: Actor,
    reason: str | Reason,
    from_state: str,
    case_id: int | None,
    at: datetime | None = None,
) -> AuditEntry:
    """The (unsaved) audit row of `obj` reaching the state it is in through `name`; a `Reason`
    is stored as its code and arguments (rendered in the reader's language) beside its text."""
    text, reason_code, reason_args = reason_split(reason)
    return AuditEntry(
        case_id=case_id,
        subject=_subject(obj),
        subject_id=obj.pk,
        transition=name,
        from_state=from_state,
        to_state=getattr(obj, _state_field(type(obj)).attname),
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        reason=text,
        reason_code=reason_code,
        reason_args=reason_args,
        **({} if at is None else {"at": at}),
    )


def audit_record(
    obj: models.Model,
    name: str,
    *,
    actor: Actor,
    reason: str | Reason = "",
    from_state: str = "",
) -> AuditEntry:
    """The audit row of an event that is not a declared transition: a subject coming into being
    (`record`, `receive`), in the state it was created in."""
    entry = _audit_entry(
        obj, name, actor=actor, reason=reason, from_state=from_state, case_id=_case_id_of(obj)
    )
    entry.save(force_insert=True)
    return entry


def audit_record_set(
    objs: models.QuerySet[Any] | Sequence[models.Model],
    name: str,
    *,
    actor: Actor,
    reason: str | Reason | Sequence[str | Reason] = "",
    from_state: str = "",
    at: datetime | None = None,
) -> int:
    """The audit rows of a set of subjects coming into being (the cases an import or a split
    opens), each in the state it was created in; returns the number of rows written.

    A queryset is recorded with one INSERT … SELECT (one `reason` for all); saved instances of
    one model with one INSERT, with one `reason` for all or one for each.
    """
    if isinstance(objs, models.QuerySet):
        if not isinstance(reason, str | Reason):
            raise TypeError("a queryset's audit rows take one reason")
        model = objs.model
        case_column = _case_column(model)
        rows = objs.values_list(
            "pk",
            case_column or models.Value(None, output_field=models.BigIntegerField()),
            _state_field(model).attname,
        )
        return _audit_insert_select(
            rows,
            subject=_subject_of(model),
            transition=name,
            from_state=from_state,
            to_state=None,
            actor=actor,
            at=at,
            reason=reason,
        )
    reasons = [reason] * len(objs) if isinstance(reason, str | Reason) else list(reason)
    if len(reasons) != len(objs):
        raise ValueError("one reason for all the subjects or one for each")
    entries = AuditEntry.objects.bulk_create(
        _audit_entry(
            obj,
            name,
            actor=actor,
            reason=why,
            from_state=from_state,
            case_id=_case_id_of(obj),
            at=at,
        )
        for obj, why in zip(objs, reasons, strict=True)
    )
    return len(entries)


def _not_allowed(obj: models.Model, name: str, state: str) -> str:
    return _("%(object)s is %(state)s: %(action)s is not possible from that state.") % {
        "object": f"{obj._meta.verbose_name} {obj}",
        "state": state_label(obj, _state_field(type(obj)).name, state),
        "action": transition_label(name),
    }


def _declarations(model: type[models.Model], name: str) -> list[Any]:
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


def _bulk_actor_checked(model: type[models.Model], name: str, actor: Actor) -> User | None:
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


# The columns of an audit row `transition_apply_bulk` writes, in the order of its rows.
AUDIT_COLUMNS = (
    *("case_id", "subject", "subject_id", "transition", "from_state", "to_state"),
    *("actor_id", "actor_label", "at", "reason", "reason_code", "reason_args"),
)


def transition_apply_bulk(
    queryset: models.QuerySet[Any],
    name: str,
    *,
    actor: Actor,
    reason: str | Reason = "",
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
    reason, reason_code, reason_args = reason_split(reason)
    reason_args = json_prepared(reason_args)  # once for every row
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
        updates: dict[str, Any] = {field.attname: target}
        if any(f.attname == "state_changed_at" for f in model._meta.concrete_fields):
            updates["state_changed_at"] = now
        model._base_manager.filter(pk__in=pks, **{f"{field.attname}__in": sources}).update(
            **updates
        )
        # COPY on PostgreSQL, from the values: a batch of the adjustment writes thousands.
        subject, label = _subject_of(model), actor_label(actor)
        user_id = user.pk if user is not None else None
        rows_insert(
            AuditEntry,
            AUDIT_COLUMNS,
            [
                (
                    *(case_id if case_column else None, subject, pk, name, state, target),
                    *(user_id, label, now, reason, reason_code, reason_args),
                )
                for pk, state, case_id in rows
            ],
        )
    return pks


def transition_record_created(
    queryset: models.QuerySet[Any],
    name: str,
    *,
    actor: Actor,
    reason: str | Reason = "",
    at: datetime | None = None,
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
    _bulk_actor_checked(model, name, actor)
    case_column = _case_column(model)
    field = _state_field(model)
    rows = queryset.filter(**{field.attname: target}).values_list(
        "pk", case_column or models.Value(None, output_field=models.BigIntegerField())
    )
    return _audit_insert_select(
        rows,
        subject=_subject_of(model),
        transition=name,
        from_state=next(iter(sources)),
        to_state=target,
        actor=actor,
        at=at,
        reason=reason,
    )


def _audit_insert_select(
    rows: models.QuerySet[Any],
    *,
    subject: str,
    transition: str,
    from_state: str,
    to_state: str | None,
    actor: Actor,
    at: datetime | None,
    reason: str | Reason,
) -> int:
    """One INSERT … SELECT of audit rows, one per row of `rows` (values: subject id, case id, and
    the state reached when `to_state` is None)."""
    select, params = rows.query.sql_with_params()
    audit = AuditEntry._meta
    columns = ["subject", "transition", "from_state", "actor_id", "actor_label", "at", "reason"]
    columns += ["reason_code", "reason_args"]
    values = ["%s"] * len(columns)
    if to_state is not None:
        columns.append("to_state")
        values.append("%s")
    columns += ["subject_id", "case_id"]
    if to_state is None:
        columns.append("to_state")
    user = actor_user(actor)
    text, reason_code, reason_args = reason_split(reason)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {audit.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)}, created.* FROM ({select}) created",
            [
                subject,
                transition,
                from_state,
                user.pk if user is not None else None,
                actor_label(actor),
                connection.ops.adapt_datetimefield_value(at or timezone.now()),
                text,
                reason_code,
                audit.get_field("reason_args").get_db_prep_value(reason_args, connection),
                *([] if to_state is None else [to_state]),
                *params,
            ],
        )
        written: int = cursor.rowcount
        return written


def pks_in_order(objs: Iterable[models.Model]) -> list[int]:
    return sorted(o.pk for o in objs)


__all__ = [
    "PermissionDenied",
    "ValidationError",
    "audit_record",
    "audit_record_set",
    "declared_transition",
    "transition_apply",
    "transition_apply_bulk",
    "transition_record_created",
]
