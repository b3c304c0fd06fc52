"""The Chinese catalogue of notices: complete, and its compiled .mo (committed, so no gettext is
needed to run) in step with the .po (`make messages` regenerates both)."""

import gettext
from pathlib import Path

import polib

from tests.catalogues import compiled_differences

LOCALE = Path(__file__).resolve().parents[2] / "notices" / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_string_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_the_compiled_catalogue_is_the_po_file():
    # given the committed .po and .mo
    po = polib.pofile(str(LOCALE / "django.po"))
    with open(LOCALE / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)

    # then every translation of the .po is what the .mo gives
    assert compiled_differences(po, mo) == {}
