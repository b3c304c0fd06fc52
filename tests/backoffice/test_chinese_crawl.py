"""Every back-office page a department's clerk can reach, read in Chinese, has no English on it.

The crawl logs in as each department's demo user (`manage.py demo`), starts at the admin index and
follows every link inside /admin/ it finds: each changelist, the change page of one sample object
of each model, and every custom view (one sample of each URL pattern). Links that only change the
list's filters or order are the same page; they are not followed again. Each page's visible text
is searched for English words (tests/english_words.py)."""

import io
import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from tests.english_words import english_words, visible_text

pytestmark = pytest.mark.django_db

# Pages that only log out or hand over files are not pages a clerk reads.
# User accounts are the administrators' pages (a department user may not open them).
_NOT_FOLLOWED = re.compile(r"/admin/(logout|jsi18n|r|auth/user)/|/autocomplete/|\.(pdf|csv|xlsx)$")
_MAX_PAGES = 600


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _pattern(path: str) -> str:
    """The URL pattern a path is an instance of: one sample per pattern is enough."""
    return re.sub(r"/\d+/", "/<id>/", path)


def crawl(client, allowed: frozenset = frozenset()) -> dict[str, list[str]]:
    """{page: its English words} for every page reachable from the admin index."""
    seen_patterns: set[str] = set()
    queue = ["/admin/"]
    found: dict[str, list[str]] = {}
    while queue and len(found) < _MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url, follow=True)
        if response.status_code != 200:
            found[url] = [f"<HTTP {response.status_code}>"]
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        words = english_words(visible_text(html), allowed)
        if words:
            found[url] = words
        parser = _Links()
        parser.feed(html)
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/admin/"):
                continue
            if _NOT_FOLLOWED.search(parts.path):
                continue
            # A filter or an ordering of a list is the list again, except the lists' pages of
            # the department queues, which the index links with their own filters.
            key = _pattern(parts.path)
            if key in seen_patterns:
                continue
            seen_patterns.add(key)
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo data once for the module, inside a transaction rolled back at its end (each
    test's own transaction nests inside it), so nothing else of the database is touched."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        call_command("demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.mark.parametrize("username", ["collector", "finance", "auditor"])
def test_every_admin_page_a_department_reaches_is_in_chinese(demo_data, client, username):
    # given the department's demo user, reading in Chinese
    client.force_login(get_user_model().objects.get(username=username))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    # when every page it reaches is read (login names are data, in Latin letters like pinyin)
    logins = frozenset(get_user_model().objects.values_list("username", flat=True))
    english = crawl(client, logins)

    # then no page shows an English word
    by_word = defaultdict(set)
    for page, words in english.items():
        for word in words:
            by_word[word].add(page)
    report = "\n".join(
        f"{word!r} ×{len(pages)}: {sorted(pages)[:3]}" for word, pages in sorted(by_word.items())
    )
    assert not english, f"{len(english)} pages with English words:\n{report}"
