from io import StringIO
from pathlib import Path

from django.core.management import call_command

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_state_machine_document_matches_the_declarations():
    # given the transitions declared on the models
    out = StringIO()
    # when the diagram is generated from them
    call_command("state_diagram", stdout=out)
    # then the committed document is exactly that output (regenerate with `make graph`)
    assert (DOCS / "state-machines.md").read_text(encoding="utf-8") == out.getvalue()


def test_every_case_state_appears_in_the_diagram():
    from replenish.models import CaseState

    text = (DOCS / "state-machines.md").read_text(encoding="utf-8")
    for state in CaseState.values:
        assert f" {state}" in text
