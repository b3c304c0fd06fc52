"""Columns that show a stored code in the reader's language (replenish.labels)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from replenish.labels import actor_display


@admin.display(description=_("by"), ordering="actor_label")
def actor_column(obj) -> str:
    """Who did it: a user by login name, the system by what it was doing."""
    return actor_display(obj.actor_label)


# What caused a ledger entry (LedgerEntry.source, "<kind>:<id>"), in words.
SOURCES = {
    "import": _("import %(id)s"),
    "agreement": _("agreement %(id)s"),
    "arrival": _("arrival %(id)s"),
    "writeoff": _("write-off %(id)s"),
    "bankruptcy": _("bankruptcy %(id)s"),
    "split": _("split %(id)s"),
    "correction": _("correction %(id)s"),
    "offset": _("credit offset %(id)s"),
}


@admin.display(description=_("source"), ordering="source")
def source_column(entry) -> str:
    kind, _sep, key = entry.source.partition(":")
    template = SOURCES.get(kind)
    return str(template) % {"id": key} if template is not None else entry.source


@admin.display(description=_("reason"))
def reason_column(entry) -> str:
    """Why: a coded reason in the reader's language, a typed one as typed."""
    return entry.reason_shown


def yuan(amount) -> str:
    """An amount as a clerk reads it: thousands separated, two decimals."""
    return "—" if amount is None else f"{amount:,.2f}"
