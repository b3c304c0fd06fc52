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


def test_the_readme_layout_table_names_every_top_level_folder():
    # given the top-level folders of the repository that hold the product, its tests and tools
    root = DOCS.parent
    tool_caches = {".git", ".venv", ".hypothesis", ".import_linter_cache", ".mypy_cache"}
    folders = {
        p.name
        for p in root.iterdir()
        if p.is_dir()
        and p.name not in tool_caches | {"var", "media", "staticfiles", "__pycache__"}
        and not p.name.startswith((".pytest", ".ruff"))
    }
    # when the README's layout table is read
    readme = (root / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") : readme.index("## Dependencies")]
    listed = {
        line.split("`")[1].rstrip("/") for line in layout.splitlines() if line.startswith("| `")
    }
    # then every folder is in it, and the table names no folder that is gone
    assert folders == listed
