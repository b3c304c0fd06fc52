"""The portal's Chinese catalogue: complete, and the committed .mo in step with the .po."""

import gettext
from pathlib import Path

import polib

from tests.catalogues import compiled_differences

LOCALE = Path(__file__).resolve().parents[2] / "portal" / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_portal_string_is_translated_and_the_mo_is_the_po():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    with open(LOCALE / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    assert compiled_differences(po, mo) == {}
