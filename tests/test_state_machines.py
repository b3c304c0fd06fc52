"""Every state machine of the product has no dead end: walking the declared transitions, each
state is reached from the initial one or is a state a row can be created in, and each state that
is not final by design has a transition out of it."""

import pytest
from django.apps import apps
from django_fsm import RETURN_VALUE, FSMFieldMixin

from replenish.management.commands.state_diagram import MACHINES

# The states a row stays in for good, by design (docs/rules.md and the issues that made them).
FINAL = {
    "replenish.ArrearsCase": {"written_off", "transferred"},
    "notices.Notice": {"superseded"},
    "notices.Notification": {"sent"},
    # A fulfilled agreement is in force again when the arrival that fulfilled it is reversed.
    "replenish.Agreement": {"breached", "terminated"},
    "units.Unit": {"merged", "split", "bankrupt", "auctioned"},
    "replenish.Payment": {"rejected", "failed"},
    "replenish.Arrival": {"reversed"},
    "replenish.WriteOffApplication": {"rejected", "posted", "withdrawn"},
    "replenish.CreditRefund": {"paid", "rejected", "withdrawn"},
    "replenish.LineCorrection": {"approved", "rejected"},
    "enforcement.Dossier": {"closed"},
}


def machines() -> dict[str, tuple]:
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, FSMFieldMixin):
                found[model._meta.label] = (model, field)
    return found


def edges(model, field) -> set[tuple[str, str]]:
    states = [value for value, _label in field.choices]
    out = set()
    for transition in field.get_all_transitions(model):
        targets = (
            transition.target.allowed_states
            if isinstance(transition.target, RETURN_VALUE)
            else [transition.target]
        )
        sources = states if transition.source in ("*", "+") else [transition.source]
        for source in sources:
            for target in targets:
                out.add((str(source), str(target)))
    return out


def test_every_state_machine_is_drawn_and_has_its_final_states_listed():
    # (the outbox's messages are a machine too, not drawn with the workflow's)
    assert set(machines()) == set(FINAL)
    assert set(MACHINES) == set(FINAL) - {"notices.Notification"}


@pytest.mark.parametrize("label", sorted(FINAL))
def test_no_state_is_a_dead_end(label):
    # given the machine's declared transitions
    model, field = machines()[label]
    states = {value for value, _label in field.choices}
    moves = edges(model, field)
    assert FINAL[label] <= states, FINAL[label] - states

    # then every state that is not final has a way out to another state
    dead_ends = {
        state
        for state in states - FINAL[label]
        if not any(source == state and target != state for source, target in moves)
    }
    assert dead_ends == set(), f"{label}: no way out of {sorted(dead_ends)}"
    # and a final state has none (it is final by design, not by accident)
    leaving = {s for s, t in moves if s in FINAL[label] and t != s}
    assert leaving == set(), f"{label}: {sorted(leaving)} listed as final but can be left"


@pytest.mark.parametrize("label", sorted(FINAL))
def test_every_state_can_be_reached(label):
    model, field = machines()[label]
    states = {value for value, _label in field.choices}
    reached, frontier = {field.get_default()}, [field.get_default()]
    moves = edges(model, field)
    while frontier:
        state = frontier.pop()
        for source, target in moves:
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert states - reached == set(), f"{label}: never reached {sorted(states - reached)}"
