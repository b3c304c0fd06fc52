"""Columns that show a stored code in the reader's language (replenish.labels)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from replenish.labels import actor_display
from replenish.models import Agreement, Arrival


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


# The sources a clerk knows by a number of their own, not by the row's id: an arrival by the
# bank's reference, an agreement by its number.
SOURCE_NUMBERS = {
    "arrival": (Arrival, "arrival_ref"),
    "agreement": (Agreement, "number"),
}


def sources_name(entries) -> None:
    """Reads the numbers of the entries' sources (one query a kind of source) for
    `source_column` to show: "到账 BANK-2026-0001" rather than "到账 2"."""
    keys: dict[str, set[int]] = {}
    for entry in entries:
        kind, _sep, key = entry.source.partition(":")
        if kind in SOURCE_NUMBERS and key.isdigit():
            keys.setdefault(kind, set()).add(int(key))
    numbers = {
        (kind, str(pk)): number
        for kind, ids in keys.items()
        for pk, number in SOURCE_NUMBERS[kind][0]
        .objects.filter(pk__in=ids)
        .values_list("pk", SOURCE_NUMBERS[kind][1])
    }
    for entry in entries:
        kind, _sep, key = entry.source.partition(":")
        entry.source_number = numbers.get((kind, key))


@admin.display(description=_("source"), ordering="source")
def source_column(entry) -> str:
    kind, _sep, key = entry.source.partition(":")
    template = SOURCES.get(kind)
    number = getattr(entry, "source_number", None) or key
    return str(template) % {"id": number} if template is not None else entry.source


@admin.display(description=_("reason"))
def reason_column(entry) -> str:
    """Why: a coded reason in the reader's language, a typed one as typed."""
    return entry.reason_shown


def yuan(amount) -> str:
    """An amount as a clerk reads it: thousands separated, two decimals."""
    return "—" if amount is None else f"{amount:,.2f}"
