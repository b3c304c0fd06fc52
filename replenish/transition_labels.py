"""What each declared transition is called for people: a refusal says "为已批准：该状态下不能批准",
never the transition's code name or the state's value. (A context: "post" is also a way of
delivery.)"""

from django.db import models
from django.utils.translation import pgettext_lazy

TRANSITION_LABELS = {
    "accept": pgettext_lazy("transition", "accept"),
    "acknowledge": pgettext_lazy("transition", "acknowledge"),
    "agreement_breach": pgettext_lazy("transition", "mark the agreement breached"),
    "agreement_end": pgettext_lazy("transition", "end the agreement"),
    "agreement_take_effect": pgettext_lazy("transition", "put the agreement in force"),
    "approve": pgettext_lazy("transition", "approve"),
    "approve_first": pgettext_lazy("transition", "give the first approval"),
    "arrive": pgettext_lazy("transition", "record as arrived"),
    "auction": pgettext_lazy("transition", "pass to the competent authority"),
    "breach": pgettext_lazy("transition", "mark as breached"),
    "deadline_pass": pgettext_lazy("transition", "pass the deadline"),
    "deliver": pgettext_lazy("transition", "deliver"),
    "enter_bankruptcy": pgettext_lazy("transition", "pass to the liquidation group"),
    "fail": pgettext_lazy("transition", "mark as failed"),
    "fulfil": pgettext_lazy("transition", "mark as fulfilled"),
    "give_up": pgettext_lazy("transition", "give up"),
    "issue": pgettext_lazy("transition", "issue"),
    "issue_notice": pgettext_lazy("transition", "issue a notice"),
    "mark_sent": pgettext_lazy("transition", "mark as sent"),
    "match": pgettext_lazy("transition", "match"),
    "match_by_hand": pgettext_lazy("transition", "match by hand"),
    "merge": pgettext_lazy("transition", "pass to the merging party"),
    "post": pgettext_lazy("transition", "post"),
    "queue": pgettext_lazy("transition", "queue as unmatched"),
    "reject": pgettext_lazy("transition", "reject"),
    "reopen": pgettext_lazy("transition", "reopen"),
    "resubmit": pgettext_lazy("transition", "submit again"),
    "retry": pgettext_lazy("transition", "retry"),
    "return_for_documents": pgettext_lazy("transition", "return for documents"),
    "reverse": pgettext_lazy("transition", "reverse"),
    "settle": pgettext_lazy("transition", "settle"),
    "sign": pgettext_lazy("transition", "sign"),
    "split": pgettext_lazy("transition", "apportion among the successors"),
    "supersede": pgettext_lazy("transition", "supersede"),
    "terminate": pgettext_lazy("transition", "terminate"),
    "transfer": pgettext_lazy("transition", "transfer"),
    "writeoff_approve": pgettext_lazy("transition", "write off"),
    "writeoff_reject": pgettext_lazy("transition", "reopen after a rejected write-off"),
    "writeoff_submit": pgettext_lazy("transition", "apply for a write-off"),
}


def transition_label(name: str) -> str:
    return str(TRANSITION_LABELS.get(name, name))


def state_label(obj: models.Model, field_name: str, state: str) -> str:
    field = obj._meta.get_field(field_name)
    choices = dict(getattr(field, "flatchoices", ()))
    return str(choices.get(state, state))
