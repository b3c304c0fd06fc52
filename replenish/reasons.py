"""Why a state changed, stored as a code and its arguments and read in the reader's language.

A service passes `Reason("notice_issued", notice="N…")` where it used to pass a sentence; the
audit row keeps the code and the arguments (`AuditEntry.reason_code`, `reason_args`) and, in
`reason`, the English sentence (for the logs and a search). A reason a person typed (a rejection,
a note) stays as typed: it is already in the writer's language.
"""

from dataclasses import dataclass, field
from datetime import date

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

# The sentences as written (English), marked for the catalogue and translated where they are read
# (`reason_text`). The stored sentence is the one written here: `Reason.english` formats it
# without activating an English translation (loading Django's English catalogues cost a process
# 0.1 s).
REASONS = {
    "arrears_imported": _("arrears established by import of %(file)s"),
    "notice_issued": _("notice %(notice)s"),
    "notice_reissued": _("reissued"),
    "notices_issued_in_bulk": _("bulk issue"),
    "notice_delivered": _("%(channel)s on %(on)s"),
    "notice_delivered_note": _("%(channel)s on %(on)s: %(note)s"),
    "notice_acknowledged": _("acknowledged by the unit"),
    "deadline_passed": _("notice deadline passed unpaid (as of %(on)s)"),
    "agreement_drafted": _("agreement %(agreement)s drafted with %(party)s"),
    "agreement_signed": _("agreement %(agreement)s signed"),
    "signed_on": _("signed on %(on)s"),
    "agreement_in_force": _("agreement %(agreement)s"),
    "agreement_ended": _("agreement %(agreement)s: %(why)s"),
    "scan_attached": _("scan attached: %(file)s"),
    "scan_replaced": _("scan replaced: %(file)s"),
    "agreement_breached": _("agreement breached (as of %(on)s)"),
    "installment_unpaid": _("installment unpaid %(days)s days after its due date (as of %(on)s)"),
    "installments_paid": _("every installment paid (as of %(on)s)"),
    "agreement_fulfilled": _("agreement fulfilled (as of %(on)s)"),
    "agreement_fulfilled_debt_remains": _(
        "agreement fulfilled, debt outside it remains (as of %(on)s)"
    ),
    "payment_recorded": _("%(via)s: %(amount)s by %(channel)s on %(on)s"),
    "arrival_of": _("arrival %(arrival)s on %(on)s"),
    "confirms_payment": _("confirms payment %(payment)s"),
    "arrival_posted": _("adjustment: posted to the ledger"),
    "paid_in_full": _("the arrived money paid everything owed"),
    "arrival_reversed": _("arrival %(arrival)s reversed"),
    "arrivals_matched_by_reference": _("arrivals file %(file)s: matched by the reference quoted"),
    "arrivals_matched_by_payer": _(
        "arrivals file %(file)s: matched to the payer's single open case"
    ),
    "arrivals_unmatched": _("arrivals file %(file)s: no case found"),
    "writeoff_applied": _("write-off %(writeoff)s applied for by %(group)s"),
    "writeoff_rejected_nothing_owed": _(
        "write-off %(writeoff)s rejected; nothing is owed any more"
    ),
    "writeoff_of": _("write-off %(writeoff)s"),
    "writeoff_rejected": _("write-off %(writeoff)s rejected: %(why)s"),
    "writeoff_rejected_overdue": _(
        "write-off %(writeoff)s rejected: %(why)s; the unit has another registered case, so it "
        "returns as overdue"
    ),
    "split_share_taken_over": _(
        "share %(share)s of case %(case)s taken over by %(party)s (%(uscc)s) on the split of "
        "%(unit)s"
    ),
    "writeoff_posted": _("write-off %(writeoff)s posted by %(actor)s"),
    "sent": _("%(channel)s sent (%(key)s)"),
    "read_in_portal": _("read in the portal inbox (%(key)s)"),
}


def _plain(value) -> str | int:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return str(value)


@dataclass(frozen=True)
class Reason:
    code: str
    args: dict = field(default_factory=dict)

    def __init__(self, code: str, **args):
        if code not in REASONS:
            raise ValueError(f"no reason {code!r} in replenish.reasons.REASONS")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "args", {k: _plain(v) for k, v in args.items()})

    def __str__(self) -> str:
        return reason_text(self.code, self.args)

    def english(self) -> str:
        """The sentence stored beside the code: English, with coded arguments as codes."""
        return REASONS[self.code] % self.args


# Arguments that are themselves codes, shown through their labels.
_CODED_ARGS = {
    "channel": (
        ("replenish", "payment", "channel"),
        ("notices", "notice", "delivery_channel"),
        ("notices", "notification", "channel"),
    ),
    "via": (("replenish", "payment", "via"),),
}


def _arg_label(name: str, value):
    for app, model, field_name in _CODED_ARGS.get(name, ()):
        try:
            choices = dict(apps.get_model(app, model)._meta.get_field(field_name).choices or ())
        except (LookupError, FieldDoesNotExist):
            continue
        if value in choices:
            return str(choices[value])
    return value


def reason_text(code: str, args: dict) -> str:
    """The reason in the active language; a code unknown to this version shows as it is."""
    template = REASONS.get(code)
    if template is None:
        return code
    shown = {name: _arg_label(name, value) for name, value in args.items()}
    try:
        return gettext(template) % shown
    except (KeyError, TypeError, ValueError):
        return code


def reason_split(reason) -> tuple[str, str, dict]:
    """(stored sentence, code, arguments) of what a service passed as its reason."""
    if isinstance(reason, Reason):
        return reason.english()[:2000], reason.code, dict(reason.args)
    return str(reason or ""), "", {}


def reason_fields(reason) -> dict:
    """The AuditEntry fields of a reason, for the few rows a service writes itself."""
    text, code, args = reason_split(reason)
    return {"reason": text, "reason_code": code, "reason_args": args}
