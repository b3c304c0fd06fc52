"""A part of a page nobody edits, drawn as a plain table (`read_only_rows`).

The admin's tabular template draws every row as a form: a wrapper for every cell, and two
hidden inputs a row (its key and its case's), each rendered through the form renderer. On the
case page those inputs alone were a quarter of its time (0.8 ms each), for a part that never
sends them back; the page went from 119 to 91 ms at the bench's small size. The cells here are the
admin's own: one `AdminReadonlyField` a column, whose `contents()` draws each row's value
exactly as the tabular template would (links, booleans, empty values, dates)."""

from dataclasses import dataclass

from django import template
from django.contrib.admin.helpers import AdminReadonlyField, InlineAdminFormSet
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.db.models import Model
from django.urls import reverse
from django.utils.safestring import SafeString

register = template.Library()


@dataclass
class ReadOnlyRow:
    original: Model
    change_url: str  # the row's own page, for the parts shown with a link to it ("" if none)
    cells: list[tuple[str, SafeString]]  # (field name, its contents)


@register.simple_tag
def read_only_rows(inline_admin_formset: InlineAdminFormSet) -> list[ReadOnlyRow]:
    """The rows of a read-only inline: for each object shown, its cells in the inline's order."""
    inline = inline_admin_formset.opts
    forms = inline_admin_formset.formset.initial_forms
    if not forms:
        return []
    columns = [
        AdminReadonlyField(forms[0], name, False, model_admin=inline)
        for name in flatten_fieldsets(inline_admin_formset.fieldsets)
    ]
    linked = inline.show_change_link and inline.has_registered_model
    url_name = admin_urlname(inline.opts, "change")
    rows = []
    for form in forms:
        cells = []
        for column in columns:
            column.form = form  # contents() reads the row's object from its form
            cells.append((column.field["name"], column.contents()))
        url = ""
        if linked:
            url = reverse(
                url_name, args=[quote(form.instance.pk)], current_app=inline.admin_site.name
            )
        rows.append(ReadOnlyRow(form.instance, url, cells))
    return rows
