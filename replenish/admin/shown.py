"""Columns that show a stored code in the reader's language (replenish.labels)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from replenish.labels import actor_display


@admin.display(description=_("by"), ordering="actor_label")
def actor_column(obj) -> str:
    """Who did it: a user by login name, the system by what it was doing."""
    return actor_display(obj.actor_label)
