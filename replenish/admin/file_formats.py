"""The columns of the files clerks upload, with what each means (shared/formats/README.md): the
upload pages list them, so a clerk can check a file before sending it."""

from django.utils.translation import gettext_lazy as _

from replenish.models import PaymentChannel

ARREARS_COLUMNS = [
    ("unit_uscc", _("the unit's unified social credit code")),
    ("unit_name", _("the unit's name")),
    ("region_code", _("6-digit administrative division code")),
    ("period", _("contribution month, YYYY-MM, not in the future")),
    ("id_number", _("the insured person's citizen ID number")),
    ("person_name", _("the insured person's name")),
    ("base", _("contribution base, above 0")),
    ("employer_amount", _("unpaid employer (pooled fund) portion, 0 or more")),
    ("employee_amount", _("unpaid employee (personal account) portion, 0 or more")),
    ("due_date", _("when the month's contribution was due, YYYY-MM-DD")),
]

ARRIVAL_COLUMNS = [
    ("arrival_ref", _("the sender's unique reference of the arrival")),
    ("arrived_on", _("the date the money arrived, YYYY-MM-DD")),
    ("amount", _("amount arrived, in yuan")),
    ("payer_uscc", _("the payer's unified social credit code")),
    ("reference", _("the notice or agreement number the payer quoted (may be empty)")),
    ("channel", _("how it was paid, one of these codes:"), PaymentChannel.choices),
]
