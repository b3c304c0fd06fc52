"""The case state machine, carried out by `transition_apply` on a locked case."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from replenish.models import ArrearsCase, AuditEntry, CaseState
from replenish.services.transitions import transition_apply
from replenish.transition_labels import transition_label
from tests.factories import SYSTEM, ArrearsCaseFactory, UserFactory

pytestmark = pytest.mark.django_db

S = CaseState
RETURN_STATES = {S.REGISTERED, S.NOTIFIED, S.OVERDUE, S.AGREEMENT}
# The contract: transition -> (sources, target, permission). `writeoff_reject` returns the case
# to the state it came from.
MACHINE = {
    "issue_notice": ({S.REGISTERED, S.OVERDUE}, S.NOTIFIED, "replenish.issue_notice"),
    "deadline_pass": ({S.NOTIFIED}, S.OVERDUE, None),
    "agreement_take_effect": (
        {S.REGISTERED, S.NOTIFIED, S.OVERDUE},
        S.AGREEMENT,
        "replenish.sign_agreement",
    ),
    "agreement_breach": ({S.AGREEMENT}, S.OVERDUE, None),
    # A reversal takes back the money that fulfilled an agreement: the case is under it again.
    "agreement_reinstate": ({S.NOTIFIED, S.OVERDUE}, S.AGREEMENT, None),
    # An agreement terminated (or fulfilled with debt outside it left) makes the debt due again.
    "agreement_end": ({S.AGREEMENT}, S.OVERDUE, None),
    "writeoff_submit": (RETURN_STATES, S.WRITEOFF, "replenish.examine_writeoff"),
    "writeoff_reject": ({S.WRITEOFF}, None, "replenish.decide_writeoff"),
    # A returned application withdrawn (by its group or collection: the service checks who).
    "writeoff_withdraw": ({S.WRITEOFF}, None, None),
    "writeoff_approve": ({S.WRITEOFF}, S.WRITTEN_OFF, "replenish.decide_writeoff"),
    "settle": (RETURN_STATES, S.SETTLED, None),
    "transfer": (RETURN_STATES, S.TRANSFERRED, "replenish.transfer_case"),
    # A reversed payment reopens a settled case in the state it was settled from.
    "reopen": ({S.SETTLED}, None, None),
}
ALLOWED = [
    (name, source, target)
    for name, (sources, target, _perm) in MACHINE.items()
    if target is not None
    for source in sorted(sources)
]
DISALLOWED = [
    (name, state)
    for name, (sources, _target, _perm) in MACHINE.items()
    for state in S.values
    if state not in sources
]
ALL_PERMISSIONS = sorted({perm for _s, _t, perm in MACHINE.values() if perm})


@pytest.fixture
def officer():
    """A staff user holding every permission a case transition asks for."""
    return UserFactory(username="officer", permissions=ALL_PERMISSIONS)


def apply(case_id: int, name: str, *, actor, reason: str = "") -> ArrearsCase:
    """What every service does: lock the case inside a transaction, then transition it."""
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case_id)
        transition_apply(case, name, actor=actor, reason=reason)
    return ArrearsCase.objects.get(pk=case_id)


def audit_rows(case_id: int) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(case_id=case_id)
        .order_by("id")
        .values_list(
            "subject",
            "subject_id",
            "transition",
            "from_state",
            "to_state",
            "actor",
            "actor_label",
            "reason",
        )
    )


def test_the_declared_machine_is_the_one_specified():
    # given the declarations on ArrearsCase
    field = ArrearsCase._meta.get_field("state")
    declared: dict[str, set[str]] = {}
    for t in field.get_all_transitions(ArrearsCase):
        declared.setdefault(t.name, set()).add(t.source)

    # then they are exactly the specified sources (a new or widened transition fails here)
    assert declared == {name: set(sources) for name, (sources, _t, _p) in MACHINE.items()}


@pytest.mark.parametrize(("name", "source", "target"), ALLOWED)
def test_an_allowed_transition_moves_the_case_and_writes_one_audit_row(
    officer, name, source, target
):
    # given a case in the source state
    case = ArrearsCaseFactory(state=source)

    # when the transition is applied by a permitted officer
    moved = apply(case.pk, name, actor=officer, reason=f"because {name}")

    # then the case is in the target state, with exactly one audit row saying who, from, to, why
    assert moved.state == target
    assert moved.state_changed_at > case.state_changed_at
    assert audit_rows(case.pk) == [
        ("case", case.pk, name, source, target, officer.pk, "officer", f"because {name}")
    ]


@pytest.mark.parametrize(("name", "state"), DISALLOWED)
def test_a_transition_not_declared_from_the_state_is_refused_and_writes_nothing(
    officer, name, state
):
    # given a case in a state the transition does not start from
    case = ArrearsCaseFactory(state=state)

    # when / then
    with pytest.raises(ValidationError) as refused:
        apply(case.pk, name, actor=officer)
    assert refused.value.messages == [
        f"arrears case {case.case_no} is {CaseState(state).label}: {transition_label(name)} is "
        "not possible from that state."
    ]
    assert ArrearsCase.objects.get(pk=case.pk).state == state
    assert audit_rows(case.pk) == []


@pytest.mark.parametrize("came_from", sorted(RETURN_STATES))
def test_a_rejected_writeoff_returns_the_case_to_the_state_it_came_from(officer, came_from):
    # given a case sent to write-off examination
    case = ArrearsCaseFactory(state=came_from)
    examined = apply(case.pk, "writeoff_submit", actor=officer)
    assert (examined.state, examined.state_before_writeoff) == (S.WRITEOFF, came_from)

    # when the audit department rejects the write-off
    rejected = apply(case.pk, "writeoff_reject", actor=officer, reason="assets found")

    # then the case is back where it was, and both steps are in the audit trail
    assert (rejected.state, rejected.state_before_writeoff) == (came_from, "")
    assert [row[2:5] for row in audit_rows(case.pk)] == [
        ("writeoff_submit", came_from, S.WRITEOFF),
        ("writeoff_reject", S.WRITEOFF, came_from),
    ]


def test_an_approved_writeoff_forgets_the_state_it_came_from(officer):
    # given
    case = ArrearsCaseFactory(state=S.OVERDUE)
    apply(case.pk, "writeoff_submit", actor=officer)

    # when
    approved = apply(case.pk, "writeoff_approve", actor=officer)

    # then
    assert (approved.state, approved.state_before_writeoff) == (S.WRITTEN_OFF, "")


def test_a_case_still_owing_money_cannot_be_settled(officer):
    # given a case that still owes principal
    case = ArrearsCaseFactory(
        state=S.NOTIFIED, principal_assessed=Decimal("100.00"), principal_unpaid=Decimal("0.01")
    )

    # when / then: refused as not possible (not as a missing permission), by users and the system
    for actor in (officer, SYSTEM):
        with pytest.raises(ValidationError):
            apply(case.pk, "settle", actor=actor)
    assert ArrearsCase.objects.get(pk=case.pk).state == S.NOTIFIED
    assert audit_rows(case.pk) == []


def test_the_state_cannot_be_assigned_directly():
    # given
    case = ArrearsCaseFactory(state=S.REGISTERED)

    # when / then
    with pytest.raises(AttributeError):
        case.state = S.SETTLED
    assert ArrearsCase.objects.get(pk=case.pk).state == S.REGISTERED


@pytest.mark.parametrize(
    ("name", "source"),
    [(name, sorted(sources)[0]) for name, (sources, _t, perm) in MACHINE.items() if perm],
)
def test_a_staff_user_without_the_permission_is_refused(name, source):
    # given a staff user holding every permission but the one the transition asks for
    permission = MACHINE[name][2]
    clerk = UserFactory(
        username="clerk", permissions=[p for p in ALL_PERMISSIONS if p != permission]
    )
    case = ArrearsCaseFactory(state=source, state_before_writeoff=S.NOTIFIED)

    # when / then
    with pytest.raises(PermissionDenied, match=f"clerk may not {transition_label(name)}"):
        apply(case.pk, name, actor=clerk)
    assert ArrearsCase.objects.get(pk=case.pk).state == source
    assert audit_rows(case.pk) == []


def test_a_staff_user_with_the_permission_may_issue_a_notice():
    # given
    collector = UserFactory(username="collector", permissions=["replenish.issue_notice"])
    case = ArrearsCaseFactory(state=S.REGISTERED)

    # when
    moved = apply(case.pk, "issue_notice", actor=collector)

    # then
    assert moved.state == S.NOTIFIED
    assert audit_rows(case.pk)[0][5:7] == (collector.pk, "collector")


def test_the_system_acts_without_user_permissions():
    # given
    case = ArrearsCaseFactory(state=S.REGISTERED)

    # when
    moved = apply(case.pk, "issue_notice", actor=SYSTEM)

    # then
    assert moved.state == S.NOTIFIED
    assert audit_rows(case.pk)[0][5:7] == (None, "system:tests")


@pytest.mark.django_db(transaction=True)
def test_a_transition_outside_a_transaction_is_refused():
    # given a case loaded without a lock, outside any transaction
    case = ArrearsCaseFactory(state=S.REGISTERED)

    # when / then
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        transition_apply(case, "issue_notice", actor=SYSTEM)
    assert ArrearsCase.objects.get(pk=case.pk).state == S.REGISTERED
