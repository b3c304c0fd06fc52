"""Why a state changed or money moved, stored as a code and its arguments and read in the
reader's language.

A service passes `Reason("notice_issued", notice="N…")` where it would otherwise pass a sentence;
the row (an audit entry, a ledger or credit entry, an access to a person's records) keeps the
code and the arguments (`reason_code`, `reason_args`, the columns of `replenish.models.Reasoned`)
and, in `reason`, the English sentence (for the logs and a search). An argument may itself be a
`Reason` (the late fee fixed *on* a reversal, say): it is kept as its code and arguments and read
in the reader's language too. A reason a person typed (a rejection, a note) stays as typed: it is
already in the writer's language.
"""

from dataclasses import dataclass, field
from datetime import date

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from replenish.labels import actor_display

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
    "party_of_kind": _("%(party)s (%(kind)s)"),
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
    # Why money moved (the ledger's and the credit's entries) and the changes that move it.
    "arrival": _("arrival %(arrival)s"),
    "arrival_beyond_debt": _("arrival %(arrival)s beyond the debt of case %(case)s"),
    "arrival_reversed_because": _("arrival %(arrival)s reversed: %(why)s"),
    "reversed_arrival_principal": _("the principal of reversed arrival %(arrival)s"),
    "matched_by_hand": _("matched by hand to %(case)s"),
    "late_fee_on_restored_principal": _("late fee %(since)s..%(to)s on %(why)s"),
    "late_fee_resumed": _(
        "%(why)s: late fee from %(since)s to %(to)s on the principal unpaid on each day"
    ),
    "agreement_ended_debt_remains": _("%(why)s; debt outside the agreement remains"),
    "writeoff_withdrawn_nothing_owed": _(
        "write-off %(writeoff)s withdrawn; nothing is owed any more"
    ),
    "agreement_ended_by_writeoff": _("write-off %(writeoff)s posted"),
    "writeoff_withdrawn": _("write-off %(writeoff)s withdrawn"),
    "writeoff_withdrawn_because": _("write-off %(writeoff)s withdrawn: %(why)s"),
    "reopens_as_overdue": _(
        "%(why)s; the unit has another registered case, so it reopens as overdue"
    ),
    "returns_as_overdue": _(
        "%(why)s; the unit has another registered case, so it returns as overdue"
    ),
    "credit_offset": _("credit offset on %(on)s"),
    "unit_credit_offset": _("credit of the unit offset on %(on)s"),
    "offset_against_case": _("offset against case %(case)s"),
    "credit_paid_everything": _("the unit's credit paid everything owed"),
    "offset_taken_back": _("credit offset %(offset)s taken back: %(why)s"),
    "posted_before_offset": _("money that arrived on %(on)s is posted before it"),
    "offset_principal_taken_back": _("the principal of credit offset %(offset)s taken back"),
    "refund_applied": _("%(amount)s to %(account)s"),
    "refund_paid_to": _("refund %(refund)s to %(bank)s %(account)s"),
    "refund_paid_out": _("paid out on %(on)s, %(payout)s"),
    "correction_recorded": _(
        "%(employer_before)s/%(employee_before)s -> %(employer)s/%(employee)s: %(why)s "
        "(%(document)s)"
    ),
    "correction_of": _("correction %(correction)s: %(why)s (%(document)s)"),
    "paid_beyond_corrected_debt": _("%(why)s: paid beyond the corrected debt"),
    "paid_beyond_corrected_debt_to_credit": _(
        "%(why)s: paid beyond the corrected debt, kept as the unit's credit"
    ),
    # A unit's succession and what it does to the cases and their fee.
    "unit_merged": _("merged into %(party)s (%(uscc)s) on %(on)s"),
    "bankruptcy_accepted": _("bankruptcy accepted on %(on)s by %(court)s (%(court_case)s)"),
    "unit_event_owed_by": _("%(event)s on %(on)s; owed by %(party)s"),
    "unit_split_among": _("split among %(parties)s"),
    "unit_split": _("unit split (event %(event)s): the case passes to %(count)s successors"),
    "fee_to_bankruptcy": _("late fee to the day before the bankruptcy acceptance of %(on)s"),
    "fee_fixed_for_successors": _("late fee fixed to move with the debt to the successors"),
    "apportioned_among_successors": _("apportioned among the successors"),
    "taken_over_from_case": _("taken over from case %(case)s"),
    # Accesses to a person's records.
    "city_service_inquiry": _("city-service inquiry by %(user)s"),
    "name_mismatch": _("%(why)s (name did not match: nothing shown)"),
}


def reasons_register(codes: dict[str, str]) -> None:
    """Add the reasons of a layer above the workflow (enforcement): its services pass them as
    `Reason`s as the workflow's do. Called from that app's `ready()`, so every process reads
    them; a code registered twice with another sentence is an error."""
    for code, sentence in codes.items():
        if REASONS.setdefault(code, sentence) != sentence:
            raise ValueError(f"reason {code!r} registered twice with different sentences")


def _plain(value) -> str | int | dict:
    if isinstance(value, Reason):
        return {"code": value.code, "args": dict(value.args)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return str(value)


def _is_nested(value) -> bool:
    return isinstance(value, dict) and set(value) == {"code", "args"}


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
        return _english(self.code, self.args)


def _english(code: str, args: dict) -> str:
    shown = {
        name: _english(value["code"], value["args"]) if _is_nested(value) else value
        for name, value in args.items()
    }
    return REASONS[code] % shown


# Arguments that are themselves codes, shown through their labels.
_CODED_ARGS = {
    "channel": (
        ("replenish", "payment", "channel"),
        ("notices", "notice", "delivery_channel"),
        ("notices", "notification", "channel"),
    ),
    "via": (("replenish", "payment", "via"),),
    "event": (("units", "unitevent", "kind"),),
    "kind": (("units", "counterparty", "kind"),),
    "case_state": (("replenish", "arrearscase", "state"),),
    "served_by": (("enforcement", "enforcementdocument", "delivery_channel"),),
    "close_reason": (("enforcement", "dossier", "close_reason"),),
}


def _arg_label(name: str, value):
    if name == "actor":  # who acted, as the trail's "by" column shows them
        return actor_display(value)
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
    shown = {
        name: reason_text(value["code"], value["args"])
        if _is_nested(value)
        else _arg_label(name, value)
        for name, value in args.items()
    }
    try:
        return gettext(template) % shown
    except (KeyError, TypeError, ValueError):
        return code


def reason_split(reason: "Reason | str") -> tuple[str, str, dict]:
    """(stored sentence, code, arguments) of what a service passed as its reason."""
    if isinstance(reason, Reason):
        return reason.english()[:2000], reason.code, dict(reason.args)
    return str(reason or ""), "", {}


def reason_fields(reason: "Reason | str") -> dict:
    """The fields of a reason (`Reasoned`: `reason`, `reason_code`, `reason_args`), for the rows
    a service writes itself."""
    text, code, args = reason_split(reason)
    return {"reason": text, "reason_code": code, "reason_args": args}
