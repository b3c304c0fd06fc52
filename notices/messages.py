"""The text of every outbound message, in English msgids translated by gettext (Chinese is the
default language). A message is rendered from its kind and a context of plain strings, so the
same context always gives the same text, and the text that went out is kept on the row.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Kind:
    NOTICE_ISSUED = "notice_issued"
    NOTICE_DEADLINE_APPROACHING = "notice_deadline_approaching"
    NOTICE_OVERDUE = "notice_overdue"
    NOTICE_OVERDUE_STAFF = "notice_overdue_staff"
    INSTALLMENT_DUE = "installment_due"
    INSTALLMENT_OVERDUE = "installment_overdue"
    AGREEMENT_BREACHED = "agreement_breached"
    WRITEOFF_WAITING = "writeoff_waiting"
    ARRIVAL_UNMATCHED = "arrival_unmatched"
    PAYMENT_COLLECT = "payment_collect"
    PASSWORD_RESET = "password_reset"
    WRITEOFF_RETURNED = "writeoff_returned"
    PAYMENT_DECLARED = "payment_declared"
    PAYMENT_REJECTED = "payment_rejected"


# What each kind of message is, in words (the admin's lists and filters).
KIND_LABELS = {
    Kind.NOTICE_ISSUED: _("notice issued"),
    Kind.NOTICE_DEADLINE_APPROACHING: _("notice deadline approaching"),
    Kind.NOTICE_OVERDUE: _("notice overdue (to the unit)"),
    Kind.NOTICE_OVERDUE_STAFF: _("notice overdue (to the collection department)"),
    Kind.INSTALLMENT_DUE: _("installment due"),
    Kind.INSTALLMENT_OVERDUE: _("installment overdue"),
    Kind.AGREEMENT_BREACHED: _("agreement breached"),
    Kind.WRITEOFF_WAITING: _("write-off waiting in audit"),
    Kind.ARRIVAL_UNMATCHED: _("arrival unmatched"),
    Kind.PAYMENT_COLLECT: _("payment to collect"),
    Kind.WRITEOFF_RETURNED: _("write-off returned, waiting"),
    Kind.PAYMENT_DECLARED: _("payment declared by the unit"),
    Kind.PAYMENT_REJECTED: _("declared payment not accepted"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@dataclass(frozen=True)
class Template:
    subject: Promise
    body: Promise
    sms: Promise


TEMPLATES: dict[str, Template] = {
    Kind.NOTICE_ISSUED: Template(
        subject=_("Replenishment notice %(notice_no)s"),
        body=_(
            "%(unit_name)s:\n"
            "You owe social insurance premiums and late fees of %(total)s yuan (case "
            "%(case_no)s). Please pay within %(working_days)s working days of receiving this "
            "notice, quoting the notice number %(notice_no)s as the payment reference. The late "
            "fee keeps accruing on the unpaid premiums until they are paid. The full notice is in "
            "your portal inbox.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: replenishment notice %(notice_no)s, %(total)s "
            "yuan, to be paid within %(working_days)s working days of receipt. Quote "
            "%(notice_no)s when paying. Tel. %(agency_contact)s"
        ),
    ),
    Kind.NOTICE_DEADLINE_APPROACHING: Template(
        subject=_("Notice %(notice_no)s: payment due by %(deadline)s"),
        body=_(
            "%(unit_name)s:\n"
            "The time limit of replenishment notice %(notice_no)s ends on %(deadline)s. "
            "%(total)s yuan plus the late fee accruing since %(issued_on)s is still unpaid. "
            "Please pay by then, quoting %(notice_no)s as the payment reference.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: notice %(notice_no)s is due by %(deadline)s. "
            "Quote %(notice_no)s when paying. Tel. %(agency_contact)s"
        ),
    ),
    Kind.NOTICE_OVERDUE: Template(
        subject=_("Notice %(notice_no)s is overdue"),
        body=_(
            "%(unit_name)s:\n"
            "The time limit of replenishment notice %(notice_no)s ended on %(deadline)s and the "
            "arrears are still unpaid. The late fee keeps accruing every day. Please pay at once, "
            "quoting %(notice_no)s, or contact us to agree a repayment schedule.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: notice %(notice_no)s is overdue since "
            "%(deadline)s; the late fee keeps accruing. Tel. %(agency_contact)s"
        ),
    ),
    Kind.NOTICE_OVERDUE_STAFF: Template(
        subject=_("Overdue: case %(case_no)s, notice %(notice_no)s"),
        body=_(
            "The time limit of notice %(notice_no)s (case %(case_no)s, %(unit_name)s, "
            "%(unit_uscc)s) ended on %(deadline)s unpaid. The case is overdue: follow it up "
            "(a new notice, an agreement or enforcement)."
        ),
        sms=_("Overdue: case %(case_no)s, notice %(notice_no)s, deadline %(deadline)s."),
    ),
    Kind.INSTALLMENT_DUE: Template(
        subject=_("Installment due on %(due_date)s"),
        body=_(
            "%(unit_name)s:\n"
            "Installment %(installment_no)s of agreement %(agreement_no)s, %(amount)s yuan, is "
            "due on %(due_date)s. Please pay it in time, quoting %(agreement_no)s.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: installment %(installment_no)s of agreement "
            "%(agreement_no)s, %(amount)s yuan, is due on %(due_date)s."
        ),
    ),
    Kind.INSTALLMENT_OVERDUE: Template(
        subject=_("Installment overdue since %(due_date)s"),
        body=_(
            "%(unit_name)s:\n"
            "Installment %(installment_no)s of agreement %(agreement_no)s, %(amount)s yuan, was "
            "due on %(due_date)s and has not arrived. If it stays unpaid past the grace period "
            "the agreement is breached and the whole balance becomes due.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: installment %(installment_no)s of agreement "
            "%(agreement_no)s is overdue since %(due_date)s."
        ),
    ),
    Kind.AGREEMENT_BREACHED: Template(
        subject=_("Agreement %(agreement_no)s breached"),
        body=_(
            "%(unit_name)s:\n"
            "Repayment agreement %(agreement_no)s is breached: an installment stayed unpaid past "
            "its grace period. The late fee accrues again on the unpaid principal, and a new "
            "replenishment notice will follow.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: agreement %(agreement_no)s is breached. "
            "Tel. %(agency_contact)s"
        ),
    ),
    Kind.WRITEOFF_WAITING: Template(
        subject=_("Write-off %(writeoff_no)s waiting for %(days)s days"),
        body=_(
            "Write-off application %(writeoff_no)s (case %(case_no)s, %(amount)s yuan) has "
            "waited for examination since %(submitted_on)s."
        ),
        sms=_("Write-off %(writeoff_no)s waiting since %(submitted_on)s."),
    ),
    Kind.ARRIVAL_UNMATCHED: Template(
        subject=_("Arrival %(arrival_ref)s unmatched for %(days)s days"),
        body=_(
            "Arrival %(arrival_ref)s of %(amount)s yuan from %(payer_uscc)s on %(arrived_on)s "
            "has matched no case yet. Please resolve it."
        ),
        sms=_("Arrival %(arrival_ref)s unmatched since %(arrived_on)s."),
    ),
    Kind.PAYMENT_COLLECT: Template(
        subject=_("Collect payment %(payment_id)s of case %(case_no)s"),
        body=_(
            "The collection department accepted payment %(payment_id)s: %(amount)s yuan paid by "
            "%(payer_name)s (%(payer_uscc)s) through %(channel)s on %(paid_on)s for case "
            "%(case_no)s, reference %(reference)s. Please collect it and confirm its arrival."
        ),
        sms=_("Collect payment %(payment_id)s: %(amount)s yuan, case %(case_no)s."),
    ),
    Kind.PASSWORD_RESET: Template(
        subject=_("Your portal password reset code"),
        body=_(
            "%(unit_name)s:\n"
            "The code to set a new password for the portal user %(username)s is %(code)s. It is "
            "valid for %(minutes)s minutes and can be used once. If you did not ask for it, "
            "ignore this message and tell us.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] Portal user %(username)s: your password reset code is %(code)s, "
            "valid for %(minutes)s minutes. Do not give it to anyone."
        ),
    ),
    Kind.WRITEOFF_RETURNED: Template(
        subject=_("Write-off %(writeoff_no)s returned %(days)s days ago"),
        body=_(
            "Write-off application %(writeoff_no)s (case %(case_no)s, %(applicant)s) was "
            "returned on %(returned_on)s for missing documents: %(reason)s. It still waits: "
            "complete the documents and resubmit it, or withdraw it, which returns the case to "
            "the state it came from."
        ),
        sms=_("Write-off %(writeoff_no)s returned on %(returned_on)s still waits."),
    ),
    Kind.PAYMENT_DECLARED: Template(
        subject=_("Declared payment %(payment_id)s of case %(case_no)s to accept"),
        body=_(
            "%(payer_name)s (%(payer_uscc)s) declared on the portal that it paid %(amount)s yuan "
            "through %(channel)s on %(paid_on)s for case %(case_no)s, reference %(reference)s; "
            "the case owed %(owed)s yuan when it declared (expected overpayment: "
            "%(overpayment)s). Please check the proof and accept the payment or say why not."
        ),
        sms=_("Declared payment %(payment_id)s: %(amount)s yuan, case %(case_no)s."),
    ),
    Kind.PAYMENT_REJECTED: Template(
        subject=_("Your payment of %(amount)s yuan was not accepted"),
        body=_(
            "%(unit_name)s:\n"
            "The payment of %(amount)s yuan you declared as paid on %(paid_on)s for case "
            "%(case_no)s was not accepted: %(reason)s. If you did pay it, please declare it "
            "again with the right details and proof, or contact us.\n"
            "%(agency_name)s, telephone %(agency_contact)s"
        ),
        sms=_(
            "[%(agency_name)s] %(unit_name)s: your payment of %(amount)s yuan (case "
            "%(case_no)s) was not accepted: %(reason)s"
        ),
    ),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def message_render(kind: str, context: dict[str, str], *, channel: str, language: str) -> Rendered:
    """The subject and the text of a message: a pure function of its arguments."""
    template = TEMPLATES[kind]
    with translation.override(language):
        subject = str(template.subject) % context
        body = str(template.sms if channel == "sms" else template.body) % context
    return Rendered(subject=subject, body=body)
