"""The project's Chinese catalogue (locale/, all strings outside notices/): complete, and its
compiled .mo (committed) in step with the .po (`make messages` regenerates both)."""

import gettext
from pathlib import Path

import polib
from django.urls import reverse

from tests.catalogues import compiled_differences

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES"


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


def test_the_back_office_speaks_chinese_by_default_and_english_on_request(staff_client):
    # when
    chinese = staff_client.get(reverse("admin:replenish_arrearscase_changelist")).content.decode()
    english = staff_client.get(
        reverse("admin:replenish_arrearscase_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    # then
    assert "欠费天数" in chinese and "导入欠费文件" in chinese
    assert "days overdue" in english and "Import an arrears file" in english
