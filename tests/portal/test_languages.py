"""Every portal page and document is in Chinese by default and in English on request: no
English sentence of the interface shows in Chinese, no Chinese one in English. The interface's
texts are the catalogues' entries (portal and notices), so a string left out of them, or not
translated, fails here."""

import re
from pathlib import Path

import polib
import pytest
from django.test import Client

from tests.notices.test_document_contents import pages
from tests.portal.test_isolation import OBJECT_OF, patterns, url_of

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [ROOT / app / "locale/zh_Hans/LC_MESSAGES/django.po" for app in ("portal", "notices")]
# Files and actions: the PDFs are checked below, the rest are not pages.
SKIP = {
    "portal:logout",
    "portal:notice_acknowledge",
    "portal:agreement_scan",
    "portal:writeoff_apply",
    "portal:refund_withdraw",
    "portal:writeoff_withdraw",
    # A liquidation group's page: a unit's member gets a 404 (tests/portal/test_writeoff_apply.py).
    "portal:writeoffs",
}
PDFS = {"portal:notice_pdf", "portal:agreement_pdf"}


def entries():
    """(English, Chinese) of the interface: whole sentences and labels of three words or more,
    placeholders cut out, so each is a piece of fixed text."""
    for path in CATALOGUES:
        for entry in polib.pofile(str(path)):
            if not entry.msgstr or entry.obsolete:
                continue
            for english, chinese in ((entry.msgid, entry.msgstr),):
                english_parts = re.split(r"%\(\w+\)s|<[^>]+>|\n", english)
                chinese_parts = re.split(r"%\(\w+\)s|<[^>]+>|\n", chinese)
                yield (
                    [p.strip() for p in english_parts if len(p.strip().split()) >= 3],
                    [p.strip(" ：:，,。") for p in chinese_parts if len(p.strip(" ：:，,。")) >= 6],
                )


def visits(client, world):
    for name, route, params in patterns("portal"):
        if name in SKIP:
            continue
        url = url_of(route, params, getattr(world, OBJECT_OF[name]).pk) if params else route
        response = client.get(url)
        assert response.status_code == 200, url
        if name in PDFS:
            yield url, " ".join(pages(response.content))
        else:
            yield url, response.content.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_portal_page_and_document_is_in_chinese_by_default(one):
    client = Client()
    client.force_login(one.user)
    english = {part for parts, _chinese in entries() for part in parts}
    leaks = [
        (url, part) for url, text in visits(client, one) for part in english if part in flat(text)
    ]
    assert leaks == [], leaks


def test_every_portal_page_and_document_is_in_english_on_request(one):
    client = Client()
    client.force_login(one.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    chinese = {part for _english, parts in entries() for part in parts}
    leaks = [
        (url, part)
        for url, text in visits(client, one)
        for part in chinese
        if part in text.replace("\n", "")
    ]
    assert leaks == [], leaks
