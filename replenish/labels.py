"""What the codes a clerk meets mean, in the reader's language.

The audit trail stores states, transitions and actors as codes (so a trail reads the same in every
language and can be searched); these functions turn them into the words of the active language
when a page shows them. States read their labels from the models' own choices (every model with a
state machine, found through the app registry, so this module imports no higher layer);
transitions and system actors have their labels here.
"""

import re
from functools import cache

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django_fsm import FSMFieldMixin

# (subject, transition) → label; a transition of the same name on another subject falls back to
# the label keyed by its name alone.
TRANSITIONS = {
    "open": _("arrears established"),
    "issue_notice": _("notice issued"),
    "deadline_pass": _("deadline passed unpaid"),
    "agreement_take_effect": _("agreement took effect"),
    "agreement_breach": _("agreement breached"),
    "agreement_end": _("agreement ended"),
    "writeoff_submit": _("write-off applied for"),
    "writeoff_approve": _("write-off approved"),
    "writeoff_reject": _("write-off rejected"),
    "settle": _("settled"),
    "reopen": _("reopened"),
    "transfer": _("transferred to the successors"),
    "draft": _("drafted"),
    "sign": _("signed"),
    "breach": _("breached"),
    "fulfil": _("fulfilled"),
    "terminate": _("terminated"),
    "withdraw": _("withdrawn"),
    "scan": _("scan attached"),
    "record": _("recorded"),
    "accept": pgettext_lazy("audit", "accepted"),
    "reject": pgettext_lazy("audit", "rejected"),
    "arrive": _("arrival confirmed"),
    "fail": _("marked failed"),
    "receive": _("received"),
    "queue": _("put in the unmatched queue"),
    "match": _("matched"),
    "match_by_hand": _("matched by hand"),
    "post": _("posted to the ledger"),
    "reverse": _("reversed"),
    "submit": _("submitted"),
    "resubmit": _("resubmitted"),
    "return_for_documents": _("returned for missing documents"),
    "approve_first": _("first approval"),
    "approve": _("approved"),
    ("writeoffapplication", "accept"): _("accepted for examination"),
    ("writeoffapplication", "post"): _("written off in the ledger"),
    "issue": _("issued"),
    "deliver": _("delivered"),
    "acknowledge": _("acknowledged by the unit"),
    "reinstate": _("in force again"),
    "agreement_reinstate": _("back under its agreement"),
    "writeoff_withdraw": _("write-off application withdrawn"),
    ("creditrefund", "pay"): _("refund paid out"),
    # Enforcement dossiers (enforcement/): each step as the trail names it.
    ("dossier", "close"): _("dossier closed"),
    ("dossier", "demand_issue"): _("written demand issued"),
    ("dossier", "demand_serve"): _("written demand served"),
    ("dossier", "inquiry_send"): _("account inquiry sent"),
    ("dossier", "inquiry_answer"): _("banks answered"),
    ("dossier", "transfer_propose"): _("transfer request proposed"),
    ("dossier", "transfer_approve"): _("transfer request approved"),
    ("dossier", "transfer_refuse"): _("transfer request refused"),
    ("dossier", "transfer_grant"): _("transfer decision granted"),
    ("dossier", "transfer_notify_bank"): _("bank notified to transfer"),
    ("dossier", "transfer_confirm"): _("transferred money confirmed"),
    ("dossier", "guarantee_require"): _("guarantee required"),
    ("dossier", "guarantee_lapse"): _("guarantee period lapsed"),
    ("dossier", "deferred_sign"): _("deferred-payment agreement signed"),
    ("dossier", "court_propose"): _("court application proposed"),
    ("dossier", "court_approve"): _("court application approved"),
    ("dossier", "court_refuse"): _("court application refused"),
    ("dossier", "court_rule"): _("court ruling recorded"),
    ("dossier", "proceeds_confirm"): _("auction proceeds confirmed"),
    "supersede": _("superseded"),
    "mark_sent": _("sent"),
    "give_up": _("given up"),
    "retry": _("queued again"),
    "merge": _("merged"),
    "split": _("split"),
    "enter_bankruptcy": _("bankruptcy recorded"),
    "auction": _("sale or lease by auction recorded"),
}

SUBJECTS = {
    "case": _("case"),
    "agreement": _("agreement"),
    "payment": _("payment"),
    "arrival": _("arrival"),
    "writeoffapplication": _("write-off application"),
    "notice": _("notice"),
    "notification": _("notification"),
    "unit": _("unit"),
    "installment": _("installment"),
}

# The product's own actors (kernel.actors.System names): who did it, in words.
SYSTEM_ACTORS = {
    "demo": _("system (demo data)"),
    "run_daily": _("system (daily run)"),
    "import_arrears": _("system (arrears import command)"),
    "import_arrivals": _("system (arrivals import command)"),
    "post_adjustments": _("system (adjustment command)"),
    "issue_notices": _("system (notice issuing command)"),
    "notifications": _("system (message sending)"),
    "reminders": _("system (reminders)"),
    "api": _("system (inquiry API)"),
}


@cache
def _state_choices() -> dict[str, dict[str, str]]:
    """{subject: {state code: label}} for every model with a state machine."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, FSMFieldMixin) and field.choices:
                name = model._meta.model_name
                if name is None:  # set on every installed model; None only before setup
                    continue
                subject = name.removeprefix("arrears")
                found[subject] = dict(field.choices)
    return found


def state_label(subject: str, code: str) -> str:
    if not code:
        return ""
    return str(_state_choices().get(subject, {}).get(code, code))


def transition_label(subject: str, name: str) -> str:
    label = TRANSITIONS.get((subject, name)) or TRANSITIONS.get(name)
    return str(label) if label is not None else name


def subject_label(subject: str) -> str:
    return str(SUBJECTS.get(subject, subject))


def actor_display(label: str, user=None) -> str:
    """A staff user by name (full name when the account has one), the system by what it was."""
    if user is not None:
        return user.get_full_name() or user.get_username()
    if label.startswith("system:"):
        name = label.removeprefix("system:")
        if name in SYSTEM_ACTORS:
            return str(SYSTEM_ACTORS[name])
        if name.startswith("portal:"):
            return str(_("unit portal user %(user)s") % {"user": name.removeprefix("portal:")})
        return str(_("system (%(name)s)") % {"name": name})
    return label


# Strings of Django's admin templates its Chinese catalogue lacks (the app list's headers, read
# by screen readers); listed here so that `make messages` keeps their translations in ours.
DJANGO_ADMIN_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)


# The matcher's notes on an arrival (replenish/services/matching.py writes them in SQL, in
# English): each pattern and its words in the reader's language.
_NOTE_PATTERNS = [
    (re.compile(r"^reference (?P<ref>\S+) not found; (?P<rest>.*)$"), None),
    (
        re.compile(
            r"^(?P<kind>notice|agreement) (?P<ref>\S+) is of case (?P<case>\S+) of another unit$"
        ),
        _("%(kind)s %(ref)s is of case %(case)s of another unit"),
    ),
    (re.compile(r"^(?P<kind>notice|agreement) (?P<ref>\S+)$"), _("%(kind)s %(ref)s")),
    (re.compile(r"^the payer's single open case$"), _("the payer's single open case")),
    (re.compile(r"^the payer is not a known unit$"), _("the payer is not a known unit")),
    (re.compile(r"^the payer has no open case$"), _("the payer has no open case")),
    (re.compile(r"^the payer has (?P<n>\d+) open cases$"), _("the payer has %(n)s open cases")),
    (re.compile(r"^payment (?P<payment>\d+)$"), _("payment %(payment)s")),
]
_NOTE_KINDS = {"notice": _("notice"), "agreement": _("agreement")}


def arrival_note_display(note: str) -> str:
    """How an arrival was matched, or why not, in the reader's language; a note a person typed
    (a match by hand) shows as typed."""
    for pattern, template in _NOTE_PATTERNS:
        found = pattern.match(note or "")
        if not found:
            continue
        parts = found.groupdict()
        if template is None:
            return str(_("reference %(ref)s not found; %(rest)s")) % {
                "ref": parts["ref"],
                "rest": arrival_note_display(parts["rest"]),
            }
        if "kind" in parts:
            parts["kind"] = str(_NOTE_KINDS[parts["kind"]])
        return str(template) % parts
    return note
