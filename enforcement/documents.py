"""The documents of an enforcement dossier, built from their snapshots as the notices' pipeline
builds a notice (notices.documents: the same Document structure, HTML and PDF renderers).

Each states the agency, the addressee, the facts fixed when it was issued, the legal basis and,
where the law gives the unit a remedy against the act, its rights: the written demand the right
to state its case and defend itself (Administrative Enforcement Law Art. 35, 36), the guarantee
requirement reconsideration and lawsuit (Administrative Reconsideration Law Art. 20,
Administrative Litigation Law Art. 46). Letters to banks, the department and the court are not
acts against the unit and carry none.
"""

from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from enforcement.models import DocumentKind, EnforcementDocument, ServiceChannel
from notices.documents import Document, Section, Table
from notices.models import DeliveryChannel


def _yuan(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _agency(snap: dict) -> Section:
    agency = snap["agency"]
    fields = [(_("agency"), agency["name"]), (_("telephone"), agency["contact"])]
    if agency.get("address"):
        fields.append((_("address"), agency["address"]))
    return Section(heading=_("Contact"), fields=tuple(fields))


def _head(snap: dict, addressee: str) -> Section:
    return Section(
        fields=(
            (pgettext("the addressee of a document", "to"), addressee),
            (_("insured unit"), snap["unit"]["name"]),
            (_("Unified Social Credit Code"), snap["unit"]["uscc"]),
            (_("case number"), snap["case_no"]),
            (_("dossier number"), snap["dossier_no"]),
            (_("issued on"), snap["issued_on"]),
        )
    )


def _by_period(owed: dict) -> Section:
    table = Table(
        header=(
            _("period"),
            _("employer portion (pooled fund)"),
            _("employee portion (personal account)"),
            _("late fee to %(date)s") % {"date": owed["as_of"]},
            _("total"),
        ),
        rows=tuple(
            (
                p["period"],
                _yuan(p["employer"]),
                _yuan(p["employee"]),
                _yuan(p["late_fee"]),
                _yuan(p["total"]),
            )
            for p in owed["by_period"]
        ),
        footer=(
            _("total"),
            "",
            "",
            _yuan(owed["late_fee"]),
            _yuan(owed["total"]),
        ),
    )
    return Section(
        heading=_("Owed as of %(date)s, by month (yuan)") % {"date": owed["as_of"]},
        table=table,
        fields=(
            (_("principal"), _yuan(owed["principal"])),
            (_("late fee"), _yuan(owed["late_fee"])),
            (_("total owed"), _yuan(owed["total"])),
        ),
    )


def _notice_fact(snap: dict) -> str:
    n = snap["notice"]
    return _(
        "Replenishment notice %(number)s of %(issued)s ordered the unit to pay %(total)s yuan; it "
        "was delivered on %(delivered)s and the time limit ended on %(deadline)s."
    ) % {
        "number": n["number"],
        "issued": n["issued_on"],
        "total": _yuan(n["total"]),
        "delivered": n["delivered_on"],
        "deadline": n["deadline"],
    }


def _legal(*texts: str) -> Section:
    return Section(heading=_("Legal basis"), paragraphs=texts)


def _art_63() -> str:
    return _("Social Insurance Law Art. 63")


def _channel(code: str) -> str:
    if code in ServiceChannel.values:
        return str(ServiceChannel(code).label)
    if code in DeliveryChannel.values:
        return str(DeliveryChannel(code).label)
    return code or "—"


def _demand(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    owed = snap["owed"]
    return _("Written demand"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _(
                    "The premiums are still unpaid. You are hereby urged to pay the %(total)s "
                    "yuan owed, with the late fee accruing until payment, within %(days)s "
                    "working days of receiving this demand, quoting notice number %(notice)s."
                )
                % {
                    "total": _yuan(owed["total"]),
                    "days": snap["working_days"],
                    "notice": snap["notice"]["number"],
                },
                _(
                    "If you do not pay within the time limit, the agency will inquire into your "
                    "deposit accounts, apply for a decision to transfer the premiums from them, "
                    "and may apply to the people's court for compulsory enforcement against your "
                    "property."
                ),
            )
        ),
        _by_period(owed),
        Section(
            heading=_("Your rights"),
            paragraphs=(
                _(
                    "You have the right to state your case and to defend yourself. Within the "
                    "time limit you may do so in writing or in person at the agency; the agency "
                    "will record and examine the facts, reasons and evidence you put forward."
                ),
            ),
        ),
        _legal(
            _(
                "Administrative Enforcement Law Art. 35, 36, 37 and 54; Social Insurance Law "
                "Art. 63 and 86. A period of ten days in the Administrative Enforcement Law is "
                "counted in working days (Art. 69)."
            )
        ),
    ]


def _inquiry(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    return _("Letter of inquiry into deposit accounts"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _(
                    "Under Social Insurance Law Art. 63 the agency inquires into the deposit "
                    "accounts the unit above holds at your institution. Please state, by "
                    "%(date)s, each account's number and its balance on the day you reply."
                )
                % {"date": snap["reply_by"]},
            )
        ),
        _legal(_art_63()),
    ]


def _accounts_table(accounts: list) -> Table:
    return Table(
        header=(_("bank"), _("account number"), _("balance on"), _("balance")),
        rows=tuple(
            (a["bank"], a["account_no"], a["balance_on"], _yuan(a["balance"])) for a in accounts
        ),
        numeric_from=3,
    )


def _demand_fact(demand: dict) -> str:
    if not demand:
        return _("No written demand was served.")
    return _(
        "Written demand %(number)s of %(issued)s was served on %(delivered)s (%(channel)s, proof: "
        "%(proof)s); the time to perform ended on %(deadline)s."
    ) % {
        "number": demand["number"],
        "issued": demand["issued_on"],
        "delivered": demand["delivered_on"] or "—",
        "channel": _channel(demand["delivery_channel"]),
        "proof": demand["delivery_proof"] or "—",
        "deadline": demand["deadline"] or "—",
    }


def _transfer_request(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    return _("Request for a written decision to transfer social insurance premiums"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _demand_fact(snap["demand"]),
                _(
                    "The unit's deposit accounts below hold enough to pay what is owed. The agency "
                    "requests a written decision to transfer %(amount)s yuan from them to the "
                    "social insurance fund."
                )
                % {"amount": _yuan(snap["amount"])},
            )
        ),
        Section(heading=_("Deposit accounts found"), table=_accounts_table(snap["accounts"])),
        _by_period(snap["owed"]),
        _legal(_art_63()),
    ]


def _transfer_notice(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    return _("Notice to transfer social insurance premiums"), [
        _head(snap, doc.addressee),
        Section(
            fields=(
                (_("account number"), snap["account_no"]),
                (_("amount to transfer"), _yuan(snap["amount"])),
                (_("transfer decision"), snap["decision_no"]),
                (_("decided on"), snap["decided_on"]),
                (_("deciding department"), snap["department"]),
            ),
            paragraphs=(
                _(
                    "Under transfer decision %(decision)s, please transfer from account "
                    "%(account)s of the unit above to the social insurance fund the premiums and "
                    "late fee owed on the day of transfer: %(amount)s yuan as of %(date)s, plus "
                    "%(daily)s yuan of late fee for each day after it; quote %(decision)s as the "
                    "payment reference."
                )
                % {
                    "decision": snap["decision_no"],
                    "amount": _yuan(snap["amount"]),
                    "account": snap["account_no"],
                    "date": snap["as_of"],
                    "daily": _yuan(snap["daily_late_fee"]),
                },
            ),
        ),
        _legal(_art_63()),
    ]


def _guarantee(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    owed = snap["owed"]
    return _("Requirement to provide a guarantee"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _(
                    "The balances of your deposit accounts (%(found)s yuan) are less than the "
                    "%(total)s yuan owed. Within %(days)s working days of receiving this "
                    "requirement, provide a guarantee (a guarantor, a mortgage or a pledge) and "
                    "sign a deferred-payment agreement with the agency. Otherwise the agency may "
                    "apply to the people's court to seize, seal up and auction property of equal "
                    "value."
                )
                % {
                    "found": _yuan(snap["found"]),
                    "total": _yuan(owed["total"]),
                    "days": snap["working_days"],
                },
            )
        ),
        _by_period(owed),
        Section(
            heading=_("Your rights"),
            paragraphs=(
                _(
                    "If you disagree with this requirement you may apply for administrative "
                    "reconsideration within 60 days of receiving it, or bring an administrative "
                    "lawsuit before the people's court within 6 months."
                ),
            ),
        ),
        _legal(
            _art_63(),
            _("Administrative Reconsideration Law Art. 20; Administrative Litigation Law Art. 46"),
        ),
    ]


def _court_application(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    owed = snap["owed"]
    notice = snap["notice"]
    demand = snap["demand"]
    evidence = [
        (
            _("replenishment notice"),
            _("%(number)s of %(issued)s: %(total)s yuan")
            % {
                "number": notice["number"],
                "issued": notice["issued_on"],
                "total": _yuan(notice["total"]),
            },
        ),
        (
            _("proof of the notice's delivery"),
            _("delivered on %(date)s (%(channel)s), proof: %(proof)s")
            % {
                "date": notice["delivered_on"],
                "channel": _channel(notice["delivery_channel"]),
                "proof": notice["delivery_proof"] or "—",
            },
        ),
        (_("time limit of the notice"), notice["deadline"]),
        (_("balance by month with the late fee"), _("the table below")),
        (_("payments since the notice"), _("the table below")),
        (_("written demand and its service"), _demand_fact(demand)),
    ]
    payments = Table(
        header=(_("arrived on"), _("principal"), _("late fee"), _("total")),
        rows=tuple(
            (p["on"], _yuan(p["principal"]), _yuan(p["late_fee"]), _yuan(p["total"]))
            for p in snap["payments_since"]
        )
        or ((_("none"), "0.00", "0.00", "0.00"),),
    )
    return _("Application for compulsory enforcement"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _demand_fact(demand),
                _(
                    "The unit has neither paid in full nor provided a guarantee, and the periods "
                    "for administrative reconsideration and lawsuit have passed without either. "
                    "The agency applies to the court for compulsory enforcement: the seizure, "
                    "sealing up and auction of the unit's property of a value equal to the "
                    "%(total)s yuan owed, the proceeds to be set off against the premiums."
                )
                % {"total": _yuan(owed["total"])},
                _("Time to apply: from %(opens)s to %(closes)s (Art. 53).")
                % {"opens": snap["window_opens"], "closes": snap["window_closes"]},
            )
        ),
        Section(heading=_("List of evidence"), fields=tuple(evidence)),
        _by_period(owed),
        Section(heading=_("Payments since the notice (yuan)"), table=payments),
        Section(heading=_("Deposit accounts found"), table=_accounts_table(snap["accounts"]))
        if snap["accounts"]
        else Section(paragraphs=(_("No deposit account of the unit was found."),)),
        _legal(
            _art_63(),
            _("Administrative Enforcement Law Art. 53, 54 and 55"),
        ),
    ]


def _fine_referral(snap: dict, doc: EnforcementDocument) -> tuple[str, list[Section]]:
    return _("Referral for an administrative fine"), [
        _head(snap, doc.addressee),
        Section(
            paragraphs=(
                _notice_fact(snap),
                _(
                    "The unit has not paid within the time limit ordered. The agency refers it "
                    "to the department for the fine of one to three times the amount owed: "
                    "%(low)s to %(high)s yuan."
                )
                % {"low": _yuan(snap["fine_from"]), "high": _yuan(snap["fine_to"])},
            )
        ),
        _by_period(snap["owed"]),
        _legal(_("Social Insurance Law Art. 86")),
    ]


BUILDERS = {
    DocumentKind.DEMAND: _demand,
    DocumentKind.INQUIRY: _inquiry,
    DocumentKind.TRANSFER_REQUEST: _transfer_request,
    DocumentKind.TRANSFER_NOTICE: _transfer_notice,
    DocumentKind.GUARANTEE: _guarantee,
    DocumentKind.COURT_APPLICATION: _court_application,
    DocumentKind.FINE_REFERRAL: _fine_referral,
}


def _delivery(doc: EnforcementDocument) -> Section | None:
    if doc.delivered_on is None:
        return None
    return Section(
        heading=_("Service"),
        fields=(
            (_("served on"), doc.delivered_on.isoformat()),
            (_("served by"), doc.get_delivery_channel_display()),
        ),
    )


def enforcement_document(doc: EnforcementDocument, *, language: str | None = None) -> Document:
    language = language or settings.LANGUAGE_CODE
    snap = doc.snapshot
    with translation.override(language):
        title, sections = BUILDERS[DocumentKind(doc.kind)](snap, doc)
        sections.append(_agency(snap))
        delivery = _delivery(doc)
        if delivery is not None:
            sections.append(delivery)
        return Document(
            title=title,
            number=_("No. %(number)s") % {"number": snap["number"]},
            language=language,
            sections=tuple(sections),
            footer=_("%(agency)s, %(date)s")
            % {"agency": snap["agency"]["name"], "date": snap["issued_on"]},
        )
