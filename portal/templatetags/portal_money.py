"""Amounts on the portal as on the printed notice: 1,234.56, whatever the language's grouping
(Django's Chinese format groups no digits), so the figures a unit compares look the same."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"
