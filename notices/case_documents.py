"""The agreement (补缴协议 / 清算协议) and the bankruptcy claim statement (债权申报) as documents
of the notices' pipeline (`notices.documents`): the same HTML and PDF renderers, the same
account, agency and seal blocks. Their content is the plain data of `replenish.documents`."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from notices.documents import (
    Document,
    Section,
    Table,
    _yuan,
    agency_fields,
    day_text,
    payee_fields,
    seal_block,
)
from replenish.documents import agreement_document_context, claim_statement_context


def agreement_document(agreement, *, language: str | None = None, today=None) -> Document:
    with translation.override(language or settings.LANGUAGE_CODE):
        context = agreement_document_context(agreement, today=today)
        return _agreement(context, language or settings.LANGUAGE_CODE)


def _agreement(c: dict, language: str) -> Document:
    party = c["counterparty"]
    banners = []
    if c["is_draft"]:
        banners.append(
            _("Draft (not signed): amounts as if signed on %(day)s; signing fixes them.")
            % {"day": day_text(c["as_of"])}
        )
    if c["state"] in ("terminated", "breached", "fulfilled"):
        banners.append(
            _("This agreement is %(state)s (%(day)s)%(reason)s.")
            % {
                "state": c["state_label"],
                "day": day_text(c["ended_on"]),
                "reason": f": {c['end_reason']}" if c["end_reason"] else "",
            }
        )
    parties = [
        (_("party A"), _("%(agency)s (collection department)") % {"agency": c["agency"]["name"]}),
        (_("party B"), _("%(name)s (%(role)s)") % {"name": party["name"], "role": party["role"]}),
    ]
    if party["uscc"]:
        parties.append((_("Unified Social Credit Code"), party["uscc"]))
    if party["head"]:
        parties.append((_("person in charge"), party["head"]))
    if party["contact"]:
        parties.append((_("contact"), party["contact"]))
    debtor = _(
        "Unit in arrears: %(name)s (Unified Social Credit Code %(uscc)s), case %(case)s."
    ) % {
        "name": c["unit"]["name"],
        "uscc": c["unit"]["uscc"],
        "case": c["case_no"],
    }
    periods = Table(
        header=(
            _("period"),
            _("persons"),
            _("employer portion (pooled fund)"),
            _("employee portion (personal account)"),
            _("late fee"),
            _("total"),
        ),
        rows=tuple(
            (
                row["period"],
                str(row.get("persons", "")),
                _yuan(row["employer"]),
                _yuan(row["employee"]),
                _yuan(row["late_fee"]),
                _yuan(row["total"]),
            )
            for row in c["periods"]
        ),
        nowrap=(0,),
    )
    schedule = Table(
        header=(pgettext("installment number", "installment"), _("due on"), _("amount (yuan)")),
        rows=tuple(
            (str(i["seq"]), day_text(i["due_on"]), _yuan(i["amount"])) for i in c["installments"]
        ),
        numeric_from=2,
        nowrap=(0, 1),
    )
    signed_on = day_text(c["signed_on"]) if c["signed_on"] else ""
    return Document(
        title=c["title"],
        number=_("Agreement No. %(number)s") % {"number": c["number"]},
        language=language,
        sections=(
            Section(paragraphs=tuple(banners), fields=tuple(parties)),
            Section(
                paragraphs=(
                    debtor,
                    _("Under %(basis)s the parties agree as follows on %(kind)s:")
                    % {"basis": _(", ").join(c["legal_basis"]), "kind": c["kind_label"]},
                )
            ),
            Section(
                heading=_("1. Amount to replenish (as of %(day)s)") % {"day": day_text(c["as_of"])},
                table=periods,
                paragraphs=(
                    _(
                        "Principal %(principal)s yuan, late fee %(fee)s yuan, total to replenish "
                        "%(total)s yuan (in words: %(upper)s)."
                    )
                    % {
                        "principal": _yuan(c["principal"]),
                        "fee": _yuan(c["late_fee"]),
                        "total": _yuan(c["total"]),
                        "upper": c["total_upper"],
                    },
                ),
            ),
            Section(
                heading=_("2. Installments (%(count)s)") % {"count": c["installment_count"]},
                table=schedule,
            ),
            Section(
                heading=_("3. Terms"),
                paragraphs=tuple(f"{n}. {term}" for n, term in enumerate(c["terms"], 1)),
            ),
            Section(
                heading=_("4. Account to pay into"),
                fields=payee_fields(c["payee"]),
                paragraphs=(
                    _("Quote the agreement number %(number)s with every transfer.")
                    % {"number": c["number"]},
                ),
            ),
            Section(heading=_("Contact"), fields=agency_fields(c["agency"])),
        ),
        signatures=(
            (
                _("Party A (seal): %(name)s") % {"name": c["agency"]["name"]},
                _("Handled by:"),
                _("Date: %(day)s") % {"day": signed_on},
            ),
            (
                _("Party B (seal): %(name)s") % {"name": party["name"]},
                _("Signed by: %(name)s") % {"name": c["signatory"]},
                _("Date: %(day)s") % {"day": signed_on},
            ),
        ),
    )


def claim_statement_document(event, *, language: str | None = None, today=None) -> Document:
    with translation.override(language or settings.LANGUAGE_CODE):
        context = claim_statement_context(event, today=today)
        return _claim(context, language or settings.LANGUAGE_CODE)


def _claim(c: dict, language: str) -> Document:
    group = c["liquidation_group"]
    tiers = Table(
        header=(_("rank"), _("claim"), _("basis"), _("amount (yuan)")),
        rows=tuple((t["label"], t["what"], t["basis"], _yuan(t["amount"])) for t in c["tiers"]),
        footer=(_("total claimed"), c["total_upper"], "", _yuan(c["total"])),
        numeric_from=3,
    )
    periods = Table(
        header=(
            _("period"),
            _("employee portion"),
            _("employer portion"),
            _("late fee"),
            _("total"),
        ),
        rows=tuple(
            (
                p["period"],
                _yuan(p["employee"]),
                _yuan(p["employer"]),
                _yuan(p["late_fee"]),
                _yuan(p["total"]),
            )
            for p in c["periods"]
        ),
        nowrap=(0,),
    )
    persons = Table(
        header=(
            _("insured person"),
            _("citizen ID number"),
            _("months unpaid"),
            _("employee portion (yuan)"),
        ),
        rows=tuple(
            (p["name"], p["id_number"], str(p["periods"]), _yuan(p["employee"]))
            for p in c["persons"]
        ),
        numeric_from=2,
        nowrap=(1,),
    )
    inherited = Table(
        header=(
            _("taken over from"),
            _("by its"),
            _("employee portion"),
            _("employer portion"),
            _("late fee"),
            _("total"),
        ),
        rows=tuple(
            (
                _("%(name)s (%(uscc)s)") % {"name": row["name"], "uscc": row["uscc"]},
                _("%(how)s on %(on)s") % {"how": row["how"], "on": day_text(row["on"])}
                if row["on"] is not None
                else "",
                _yuan(row["employee"]),
                _yuan(row["employer"]),
                _yuan(row["late_fee"]),
                _yuan(row["total"]),
            )
            for row in c["inherited"]
        ),
        numeric_from=2,
    )
    inherited_sections = (
        (
            Section(
                heading=_("Debts the debtor took over from other units"),
                paragraphs=(
                    _(
                        "Part of the claims above are debts of other units that passed to the "
                        "debtor by their merger into it or their split; they rank as the "
                        "debtor's own:"
                    ),
                ),
                table=inherited,
            ),
        )
        if c["inherited"]
        else ()
    )
    head = _(", ").join(part for part in (group["head"], group["contact"]) if part)
    return Document(
        title=c["title"],
        number=_("Court case %(number)s") % {"number": c["court_case_no"]},
        language=language,
        sections=(
            Section(
                fields=(
                    (
                        pgettext("addressed to", "to"),
                        _("%(name)s (%(role)s)") % {"name": group["name"], "role": head},
                    ),
                    (_("creditor"), c["creditor"]["name"]),
                    (
                        _("debtor"),
                        _("%(name)s (Unified Social Credit Code %(uscc)s)")
                        % {"name": c["debtor"]["name"], "uscc": c["debtor"]["uscc"]},
                    ),
                    (_("court"), c["court"]),
                    (_("accepted on"), day_text(c["accepted_on"])),
                ),
                paragraphs=(
                    _(
                        "The debtor owes basic medical insurance premiums (cases %(cases)s): the "
                        "principal unpaid as of %(as_of)s, the late fee to %(through)s (the day "
                        "before the court accepted the bankruptcy). The creditor declares these "
                        "claims:"
                    )
                    % {
                        "cases": _(", ").join(c["case_nos"]),
                        "as_of": day_text(c["as_of"]),
                        "through": day_text(c["fee_through"]),
                    },
                ),
                table=tiers,
            ),
            *inherited_sections,
            Section(heading=_("By period"), table=periods),
            Section(heading=_("First rank in detail: the employees' portions"), table=persons),
            Section(
                heading=_("Account for the distributions"),
                fields=payee_fields(c["payee"]),
            ),
            Section(heading=_("Legal basis"), paragraphs=(" ".join(c["legal_basis"]),)),
            Section(heading=_("Contact"), fields=agency_fields(c["creditor"])),
        ),
        seal=seal_block(c["creditor"]["name"], c["as_of"]),
    )
