"""Every translatable string of the code is in its committed Chinese catalogue: the catalogues are
extracted again (as `make messages` does) from a copy of the sources and compared. Strings added
to the code without `make messages` would otherwise show in English in the Chinese UI, with no
other test noticing (73 once did)."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
# (folder, what makemessages leaves out there): the Makefile's `messages` target.
CATALOGUES = (
    (".", ("notices", "enforcement", ".venv", "tests", "bench", "docs", "var")),
    ("notices", ()),
    ("enforcement", ()),
    ("portal", ()),
)
SOURCES = (
    "manage.py",
    "config",
    "kernel",
    "units",
    "replenish",
    "notices",
    "enforcement",
    "portal",
    "api",
    "backoffice",
    "operations",
    "templates",
)

pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext) to extract strings"
)


def keys(path: Path) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in polib.pofile(str(path)) if not e.obsolete}


def test_every_string_of_the_code_is_in_its_catalogue(tmp_path):
    # given a copy of the sources with the committed catalogues
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    committed = {
        folder: keys(ROOT / folder / "locale/zh_Hans/LC_MESSAGES/django.po")
        for folder, _ignored in CATALOGUES
    }

    # when the strings are extracted again
    for folder, ignored in CATALOGUES:
        manage = [sys.executable, str(tmp_path / "manage.py")]
        subprocess.run(
            [*manage, "makemessages", "-l", "zh_Hans", "--no-location"]
            + [f"-i={name}" for name in ignored],
            cwd=tmp_path / folder,
            env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "PYTHONPATH": str(tmp_path)},
            check=True,
            capture_output=True,
        )

    # then none is missing from the committed catalogue
    missing = {
        folder: sorted(
            keys(tmp_path / folder / "locale/zh_Hans/LC_MESSAGES/django.po") - committed[folder],
            key=str,
        )
        for folder, _ignored in CATALOGUES
    }
    assert missing == {folder: [] for folder, _ignored in CATALOGUES}
