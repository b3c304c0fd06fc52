"""Print the state machines as Mermaid diagrams, read from the @transition declarations.

docs/state-machines.md is this command's output; a test fails when the two drift apart.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django_fsm import RETURN_VALUE, FSMFieldMixin

MACHINES = (
    "replenish.ArrearsCase",
    "notices.Notice",
    "replenish.Agreement",
    "units.Unit",
    "replenish.Payment",
    "replenish.Arrival",
    "replenish.WriteOffApplication",
    "enforcement.Dossier",
    "replenish.LineCorrection",
    "replenish.CreditRefund",
)


def mermaid(model_label: str) -> str:
    model = apps.get_model(model_label)
    field = next(f for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin))
    lines = ["stateDiagram-v2"]
    initial = field.get_default()
    lines.append(f"    [*] --> {initial}")
    edges = []
    for transition in field.get_all_transitions(model):
        targets = (
            transition.target.allowed_states
            if isinstance(transition.target, RETURN_VALUE)
            else [transition.target]
        )
        for target in targets:
            edges.append((str(transition.source), str(target), transition.name))
    for source, target, name in sorted(set(edges)):
        lines.append(f"    {source} --> {target}: {name}")
    return "\n".join(lines)


def document() -> str:
    parts = [
        "# State machines",
        "",
        "Generated from the `@transition` declarations by `python manage.py state_diagram`; "
        "do not edit by hand.",
    ]
    for label in MACHINES:
        model = apps.get_model(label)
        parts += ["", f"## {model.__name__} (`{label}`)", "", "```mermaid", mermaid(label), "```"]
    return "\n".join(parts) + "\n"


class Command(BaseCommand):
    help = "Print the workflow's state machines as Mermaid diagrams (docs/state-machines.md)."

    def handle(self, *args, **options):
        self.stdout.write(document(), ending="")
