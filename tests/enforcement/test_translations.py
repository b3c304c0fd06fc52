"""The enforcement app's Chinese catalogue (enforcement/locale): complete, compiled in step, and
the documents in Chinese hold no English left over."""

import gettext
import re
from pathlib import Path

import polib
import pytest

from enforcement.documents import enforcement_document
from tests.catalogues import compiled_differences
from tests.enforcement.helpers import Staff, dossier_at

LOCALE = Path(__file__).resolve().parents[2] / "enforcement" / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_string_is_translated_and_the_compiled_catalogue_is_the_po_file():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    with open(LOCALE / "django.mo", "rb") as handle:
        assert compiled_differences(po, gettext.GNUTranslations(handle)) == {}


@pytest.mark.django_db
def test_the_documents_in_chinese_hold_no_english_words():
    # given a dossier with a demand, an inquiry letter and a transfer request
    dossier = dossier_at("transfer_requested", Staff())

    # then no document's Chinese text has an English word in it (codes and numbers aside)
    for document in dossier.documents.order_by("pk"):
        text = enforcement_document(document, language="zh-hans").text()
        text = text.replace(document.snapshot["unit"]["uscc"], "")
        words = re.findall(r"[A-Za-z]{4,}", re.sub(r"\S+\.pdf", "", text))
        assert words == [], f"{document.number}: {words}"
