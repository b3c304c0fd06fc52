"""What a clerk must see of each object a list action acts on, before and after: the unit, the
case and the amount of a payment, the payer and amount of an arrival, the case of a write-off."""

from django.utils.translation import gettext as _

from backoffice.admin.shown import yuan
from replenish.models import Arrival, Payment, WriteOffApplication

# What to read with the objects, so their facts cost no query each.
FACTS_RELATED = {"payment": ("case__unit",), "writeoffapplication": ("case__unit",)}


def facts(obj) -> str:
    if isinstance(obj, Payment):
        return _(
            "payment of %(amount)s yuan by %(unit)s for case %(case)s (%(channel)s, %(on)s)"
        ) % {
            "amount": yuan(obj.amount),
            "unit": obj.case.unit.name,
            "case": obj.case.case_no,
            "channel": obj.get_channel_display(),
            "on": obj.paid_on,
        }
    if isinstance(obj, Arrival):
        return _("arrival %(ref)s of %(amount)s yuan from %(payer)s (%(on)s)") % {
            "ref": obj.arrival_ref,
            "amount": yuan(obj.amount),
            "payer": obj.payer_uscc,
            "on": obj.arrived_on,
        }
    if isinstance(obj, WriteOffApplication):
        return _("write-off %(number)s of case %(case)s (%(unit)s)") % {
            "number": obj.writeoff_no,
            "case": obj.case.case_no,
            "unit": obj.case.unit.name,
        }
    return str(obj)
