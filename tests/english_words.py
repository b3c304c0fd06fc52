"""Finding English a Chinese clerk would read on a back-office page: the words of its visible
text (and of its titles, placeholders and button labels) written in Latin letters, less a short
explicit allow-list of codes and names that are the same in every language."""

import re
from html.parser import HTMLParser

# Words that stay as they are in the Chinese interface: file formats, product names, the
# units of the identifiers, and Django's own brand in the admin's title.
ALLOWED = frozenset(
    {
        "CSV",
        "XLSX",
        "Excel",
        "PDF",
        "HTML",
        "UTF",
        "GB",
        "ID",
        "API",
        "Django",
        "WeChat",
        "Alipay",
        "SMS",
        "URL",
        # the notation of dates in the file formats' descriptions (YYYY-MM-DD)
        "YYYY",
        "MM",
        "DD",
    }
)
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "textarea", "pre", "code"}
# A run of Latin letters standing alone: not part of a code (C310101-2026-000001, N2…),
# an e-mail address, a file name or a URL.
_TOKEN = re.compile(r"[^\s,;:()（）、，。：；\[\]{}<>\"'“”‘’|]+")
_WORD = re.compile(r"^[A-Za-z][a-z]+$|^[A-Z]{2,}$")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        values = dict(attrs)
        # An icon's alt text is Django's (alt="True" on a yes/no icon) and not shown.
        for name in ("title", "placeholder", "aria-label"):
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_words(text: str, allowed: frozenset = ALLOWED) -> list[str]:
    """The Latin-letter words of `text` that are not codes, addresses or allowed names."""
    allowed = ALLOWED | allowed
    words = []
    for token in _TOKEN.findall(text):
        token = token.strip(".!?…-_*#%+=")
        if not token or any(c.isdigit() for c in token) or any(c in token for c in "@./"):
            continue
        # Letters glued to other signs (→registered, case#3) are words too, unless digits make
        # the token a code.
        for part in re.split(r"[^A-Za-z0-9_'-]+", token):
            if "_" in part:  # a code such as notice_issued is English to a clerk too
                words.append(part)
                continue
            for word in part.split("-"):
                if _WORD.match(word) and word not in allowed:
                    words.append(word)
    return words
