"""Checking a committed .po against its compiled .mo (the three catalogues' tests)."""

import gettext

import polib


def compiled_differences(po: polib.POFile, mo: gettext.GNUTranslations) -> dict:
    """Every singular translation of the .po whose compiled text differs, keyed by (context,
    msgid): {key: (in the .po, in the .mo)}. Empty when the two agree."""
    differences = {}
    for entry in po.translated_entries():
        if entry.msgid_plural:
            continue
        if entry.msgctxt:
            compiled = mo.pgettext(entry.msgctxt, entry.msgid)
        else:
            compiled = mo.gettext(entry.msgid)
        if compiled != entry.msgstr:
            differences[(entry.msgctxt, entry.msgid)] = (entry.msgstr, compiled)
    return differences
