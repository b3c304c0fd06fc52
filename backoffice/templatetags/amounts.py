"""`{{ amount|yuan }}`: an amount as clerks read it, thousands separated, two decimals (the
Chinese locale's number format has no thousands separator)."""

from django import template

from backoffice.admin.shown import yuan as _yuan

register = template.Library()


@register.filter
def yuan(amount):
    return _yuan(amount)
