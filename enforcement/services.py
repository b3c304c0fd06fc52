"""The steps of an enforcement dossier, one service each (`dossier_<verb>`).

Every service locks the case, then the dossier (parent before child), runs the declared
transition through `transition_apply` (which writes the audit row), creates the step's document
in the same transaction and refuses, changing nothing, with a message saying why.

Four eyes: a transfer request and a court application are proposed by one collection user and
approved by another (`approve_dossier`); the proposer may not approve their own proposal.
Finance confirms the money that enforcement brought (`confirm_enforcement_money`): an arrival
quoting the transfer decision number or the court case number, matched to the case.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement import deadlines, snapshots
from enforcement.models import (
    COURT_SOURCES,
    DOCUMENT_PREFIX,
    OPEN_DOSSIER_STATES,
    BankAccount,
    CloseReason,
    DocumentKind,
    Dossier,
    DossierState,
    EnforcementDocument,
    FineReferral,
    Guarantee,
    GuaranteeKind,
    ServiceChannel,
)
from kernel.actors import Actor, System, actor_label, actor_user, require_permission
from notices.models import DELIVERED_NOTICE_STATES, Notice
from replenish.models import ArrearsCase, Arrival, ArrivalState, CaseState
from replenish.reasons import Reason
from replenish.selectors import case_owed
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.numbering import number_block_take
from replenish.services.transitions import audit_record, transition_apply

RUN = "enforcement.run_dossier"
APPROVE = "enforcement.approve_dossier"
CONFIRM_MONEY = "enforcement.confirm_enforcement_money"
PROOF_TYPES = (".pdf", ".jpg", ".jpeg", ".png")

# What closes a dossier of a case in each state, when the case moved on by itself.
CASE_CLOSES = {
    CaseState.SETTLED: CloseReason.SETTLED,
    CaseState.AGREEMENT: CloseReason.AGREEMENT,
    CaseState.WRITTEN_OFF: CloseReason.WRITTEN_OFF,
}


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _locked(dossier_id: int) -> tuple[ArrearsCase, Dossier]:
    case_id = Dossier.objects.values_list("case_id", flat=True).get(pk=dossier_id)
    case = (
        ArrearsCase.objects.select_for_update(of=("self",)).select_related("unit").get(pk=case_id)
    )
    return case, Dossier.objects.select_for_update().get(pk=dossier_id)


def _state_refusal(dossier: Dossier, action: str) -> ValidationError:
    return ValidationError(
        _("Dossier %(no)s is %(state)s: %(action)s is not possible now.")
        % {"no": dossier.dossier_no, "state": dossier.get_state_display(), "action": action}
    )


def _expect(dossier: Dossier, states, action: str) -> None:
    if dossier.state not in states:
        raise _state_refusal(dossier, action)


def _number(kind: str, region: str, year: int) -> str:
    prefix = DOCUMENT_PREFIX[kind]
    sequence = number_block_take(scope=f"enforcement:{prefix}:{region}:{year}")
    return f"{prefix}{region}-{year}-{sequence:06d}"


def _document(
    dossier: Dossier, case: ArrearsCase, kind: str, *, addressee: str, on: date, content: dict
) -> EnforcementDocument:
    number = _number(kind, case.region_code, on.year)
    snapshot = snapshots.common(dossier, case, number=number, issued_on=on) | content
    return EnforcementDocument.objects.create(
        dossier=dossier,
        kind=kind,
        number=number,
        addressee=addressee,
        issued_on=on,
        snapshot=snapshot,
    )


def _user(actor: Actor):
    return actor_user(actor)


# --- opening ------------------------------------------------------------------------------------


def dossier_open(*, case_id: int, actor: Actor, today: date | None = None) -> Dossier:
    """Open the dossier of an overdue case whose notice was delivered (the decision enforced)."""
    require_permission(actor, RUN, action=_("open an enforcement dossier"))
    today = _today(today)
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update(of=("self",)).get(pk=case_id)
        if case.state != CaseState.OVERDUE:
            raise ValidationError(
                _("Case %(case)s is %(state)s: only an overdue case is enforced.")
                % {"case": case.case_no, "state": case.get_state_display()}
            )
        existing = Dossier.objects.filter(case=case, state__in=OPEN_DOSSIER_STATES).first()
        if existing is not None:
            raise ValidationError(
                _("Case %(case)s already has the open dossier %(no)s.")
                % {"case": case.case_no, "no": existing.dossier_no}
            )
        notice = (
            Notice.objects.filter(case=case, state__in=DELIVERED_NOTICE_STATES)
            .order_by("-issued_on", "-pk")
            .first()
        )
        if notice is None:
            raise ValidationError(
                _("Case %(case)s has no delivered notice: there is no decision to enforce.")
                % {"case": case.case_no}
            )
        sequence = number_block_take(scope=f"enforcement:dossier:{case.region_code}:{today.year}")
        dossier = Dossier.objects.create(
            dossier_no=f"ZF{case.region_code}-{today.year}-{sequence:06d}",
            case=case,
            notice=notice,
            opened_on=today,
            opened_by=actor_label(actor),
        )
        audit_record(
            dossier, "open", actor=actor, reason=Reason("dossier_opened", case=case.case_no)
        )
    return dossier


# --- the written demand -------------------------------------------------------------------------


def dossier_demand_issue(
    *, dossier_id: int, actor: Actor, today: date | None = None
) -> EnforcementDocument:
    """Issue the written demand (催告书): what is owed, ten working days to perform, the right
    to state and defend (Administrative Enforcement Law Art. 35, 36, 54)."""
    require_permission(actor, RUN, action=_("issue a written demand"))
    today = _today(today)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.OPENED], _("issuing the written demand"))
        transition_apply(dossier, "demand_issue", actor=actor)
        document = _document(
            dossier,
            case,
            DocumentKind.DEMAND,
            addressee=case.unit.name,
            on=today,
            content=snapshots.demand(case, on=today),
        )
    return document


def _delivery_checked(channel: str, delivered_on, proof, today: date, issued_on: date) -> None:
    errors = {}
    if channel not in ServiceChannel.values:
        errors["channel"] = _(
            "%(channel)s is not a way of serving a document (one of %(all)s)."
        ) % {
            "channel": channel,
            "all": ", ".join(ServiceChannel.values),
        }
    if not isinstance(delivered_on, date):
        errors["delivered_on"] = _("The delivery date is missing.")
    elif delivered_on > today:
        errors["delivered_on"] = _("%(date)s is in the future.") % {"date": delivered_on}
    elif delivered_on < issued_on:
        errors["delivered_on"] = _("%(date)s is before the document was issued (%(issued)s).") % {
            "date": delivered_on,
            "issued": issued_on,
        }
    if channel in (ServiceChannel.POST, ServiceChannel.HAND) and not proof:
        errors["proof"] = _(
            "Service by post or in person needs the signed return receipt (送达回证) as proof."
        )
    if proof and not (proof.name or "").lower().endswith(PROOF_TYPES):
        errors["proof"] = _("The proof must be a PDF, JPEG or PNG file, not %(name)s.") % {
            "name": proof.name
        }
    if errors:
        raise ValidationError(errors)


def dossier_document_deliver(
    *,
    document_id: int,
    channel: str,
    delivered_on: date,
    actor: Actor,
    proof: File | None = None,
    note: str = "",
    today: date | None = None,
) -> EnforcementDocument:
    """Record that a document was served. Serving the demand starts its ten working days and
    fixes the court-application window; serving the guarantee requirement starts its period."""
    require_permission(actor, RUN, action=_("record the service of a document"))
    today = _today(today)
    with transaction.atomic():
        dossier_id = EnforcementDocument.objects.values_list("dossier_id", flat=True).get(
            pk=document_id
        )
        _case, dossier = _locked(dossier_id)
        document = EnforcementDocument.objects.select_for_update().get(pk=document_id)
        if document.delivered_on is not None:
            raise ValidationError(
                _("%(number)s was already served on %(date)s.")
                % {"number": document.number, "date": document.delivered_on}
            )
        _delivery_checked(channel, delivered_on, proof, today, document.issued_on)
        why = Reason(
            "document_served", document=document.number, served_by=channel, on=delivered_on
        )
        if document.kind == DocumentKind.DEMAND:
            _expect(dossier, [DossierState.DEMAND_ISSUED], _("serving the written demand"))
            deadline = deadlines.demand_deadline(delivered_on)
            notice_delivered_on = dossier.notice.delivered_on
            if notice_delivered_on is None:  # a dossier enforces a delivered notice only
                raise ValueError(f"dossier {dossier.pk}: its notice has no delivery date")
            window = deadlines.court_window(
                notice_delivered_on=notice_delivered_on, demand_deadline=deadline
            )
            transition_apply(
                dossier,
                "demand_serve",
                actor=actor,
                reason=why,
                deadline=deadline,
                window_opens=window.opens,
                window_closes=window.closes,
            )
        else:
            if dossier.state == DossierState.CLOSED:
                raise _state_refusal(dossier, _("recording a service"))
            if document.kind == DocumentKind.GUARANTEE:
                dossier.guarantee_deadline = deadlines.guarantee_deadline(delivered_on)
                dossier.save(update_fields=["guarantee_deadline"])
            audit_record(
                dossier, f"serve_{document.kind}", actor=actor, reason=why, from_state=dossier.state
            )
        if proof is not None:
            document.delivery_proof.save(proof.name, proof, save=False)
        document.delivered_on = delivered_on
        document.delivery_channel = channel
        document.delivery_note = note.strip()
        document.save(
            update_fields=["delivered_on", "delivery_channel", "delivery_note", "delivery_proof"]
        )
    return document


# --- the account inquiry ------------------------------------------------------------------------


def dossier_inquiry_send(
    *, dossier_id: int, banks: Sequence[str], actor: Actor, today: date | None = None
) -> list[EnforcementDocument]:
    """Send the deposit-account inquiry letter to each bank (Social Insurance Law Art. 63)."""
    require_permission(actor, RUN, action=_("send an account inquiry"))
    today = _today(today)
    names = [b.strip() for b in banks if b.strip()]
    if not names:
        raise ValidationError({"banks": _("Name at least one bank to inquire at.")})
    if len(set(names)) != len(names):
        raise ValidationError({"banks": _("A bank is named twice.")})
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.DEMAND_SERVED], _("sending the account inquiry"))
        reply_by = deadlines.bank_reply_deadline(today)
        transition_apply(
            dossier,
            "inquiry_send",
            actor=actor,
            reason=Reason("inquiry_sent_to", banks=", ".join(names)),
            reply_deadline=reply_by,
        )
        documents = [
            _document(
                dossier,
                case,
                DocumentKind.INQUIRY,
                addressee=bank,
                on=today,
                content=snapshots.inquiry(case, bank=bank, reply_by=reply_by),
            )
            for bank in names
        ]
    return documents


@dataclass(frozen=True)
class BankReply:
    """One account a bank's reply names: `balance` as the reply states it (yuan)."""

    bank: str
    account_no: str
    balance: object
    balance_on: date
    replied_on: date


@dataclass(frozen=True)
class _CheckedReply:
    """A bank's reply after the checks: its balance an amount."""

    bank: str
    account_no: str
    balance: Decimal
    balance_on: date
    replied_on: date


def _replies_checked(replies: Sequence[BankReply], today: date) -> list[_CheckedReply]:
    errors: list[str] = []
    clean: list[_CheckedReply] = []
    for n, reply in enumerate(replies, start=1):
        where = _("Reply %(n)s") % {"n": n}
        try:
            balance = Decimal(str(reply.balance))
        except InvalidOperation:
            errors.append(
                _("%(where)s: %(value)s is not an amount.")
                % {"where": where, "value": reply.balance}
            )
            continue
        if not balance.is_finite() or balance < 0 or balance != balance.quantize(Decimal("0.01")):
            errors.append(
                _("%(where)s: the balance %(value)s must be a non-negative amount in fen.")
                % {"where": where, "value": reply.balance}
            )
        if not reply.bank.strip() or not reply.account_no.strip():
            errors.append(
                _("%(where)s: the bank and the account number are needed.") % {"where": where}
            )
        if not isinstance(reply.replied_on, date) or reply.replied_on > today:
            errors.append(
                _("%(where)s: the reply date is missing or in the future.") % {"where": where}
            )
        if not isinstance(reply.balance_on, date) or reply.balance_on > today:
            errors.append(
                _("%(where)s: the balance date is missing or in the future.") % {"where": where}
            )
        clean.append(
            _CheckedReply(
                reply.bank.strip(),
                reply.account_no.strip(),
                balance,
                reply.balance_on,
                reply.replied_on,
            )
        )
    seen = [(r.bank, r.account_no) for r in clean]
    if len(set(seen)) != len(seen):
        errors.append(_("An account is given twice."))
    if errors:
        raise ValidationError(errors)
    return clean


def dossier_inquiry_answer(
    *, dossier_id: int, replies: Sequence[BankReply], actor: Actor, today: date | None = None
) -> Dossier:
    """Record the banks' replies: each account and its balance, a row each (none: no account
    found)."""
    require_permission(actor, RUN, action=_("record the banks' replies"))
    today = _today(today)
    clean = _replies_checked(replies, today)
    with transaction.atomic():
        _case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.INQUIRY_SENT], _("recording the banks' replies"))
        BankAccount.objects.bulk_create(
            BankAccount(
                dossier=dossier,
                bank=r.bank,
                account_no=r.account_no,
                balance=r.balance,
                balance_on=r.balance_on,
                replied_on=r.replied_on,
            )
            for r in clean
        )
        total = sum((r.balance for r in clean), Decimal("0.00"))
        transition_apply(
            dossier,
            "inquiry_answer",
            actor=actor,
            reason=Reason("accounts_found", count=len(clean), balance=total),
        )
    return dossier


def balance_found(dossier: Dossier) -> Decimal:
    return sum((a.balance for a in dossier.accounts.all()), Decimal("0.00"))


# --- the transfer route -------------------------------------------------------------------------


def _require_second(actor: Actor, dossier: Dossier, what: str) -> None:
    user = _user(actor)
    if user is None:
        raise PermissionDenied(_("Only a person in collection approves %(what)s.") % {"what": what})
    if dossier.proposed_by_id == user.pk:
        raise PermissionDenied(
            _(
                "%(user)s proposed %(what)s of dossier %(no)s and may not also approve it: "
                "another person in collection must."
            )
            % {"user": user.get_username(), "what": what, "no": dossier.dossier_no}
        )


def dossier_transfer_propose(
    *, dossier_id: int, actor: Actor, today: date | None = None
) -> Dossier:
    """Propose to request the transfer decision: the accounts found hold what is owed."""
    require_permission(actor, RUN, action=_("propose a transfer request"))
    today = _today(today)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.INQUIRY_ANSWERED], _("proposing a transfer request"))
        owed = case_owed(case.pk, as_of=today).total
        found = balance_found(dossier)
        if found < owed:
            raise ValidationError(
                _(
                    "The accounts found hold %(found)s yuan, less than the %(owed)s yuan owed: "
                    "require a guarantee instead (Social Insurance Law Art. 63 para. 2)."
                )
                % {"found": found, "owed": owed}
            )
        transition_apply(
            dossier,
            "transfer_propose",
            actor=actor,
            reason=Reason("owed_and_found", owed=owed, found=found),
            by=_user(actor),
            amount=owed,
        )
    return dossier


def dossier_transfer_approve(
    *, dossier_id: int, actor: Actor, today: date | None = None
) -> EnforcementDocument:
    """A second collection user approves: the request for a transfer decision goes to the
    administrative department (ENFORCEMENT_DECISION_DEPARTMENT)."""
    require_permission(actor, APPROVE, action=_("approve a transfer request"))
    today = _today(today)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.TRANSFER_PROPOSED], _("approving the transfer request"))
        _require_second(actor, dossier, _("the transfer request"))
        department = settings.ENFORCEMENT_DECISION_DEPARTMENT
        transition_apply(
            dossier, "transfer_approve", actor=actor, by=_user(actor), department=department
        )
        return _document(
            dossier,
            case,
            DocumentKind.TRANSFER_REQUEST,
            addressee=department,
            on=today,
            content=snapshots.transfer_request(dossier, case, on=today),
        )


def dossier_proposal_refuse(*, dossier_id: int, reason: str, actor: Actor) -> Dossier:
    """A second collection user refuses the proposed transfer request or court application."""
    require_permission(actor, APPROVE, action=_("refuse a proposal"))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the refusal.")})
    with transaction.atomic():
        _case, dossier = _locked(dossier_id)
        _expect(
            dossier,
            [DossierState.TRANSFER_PROPOSED, DossierState.COURT_PROPOSED],
            _("refusing a proposal"),
        )
        _require_second(actor, dossier, _("the proposal"))
        name = (
            "transfer_refuse" if dossier.state == DossierState.TRANSFER_PROPOSED else "court_refuse"
        )
        transition_apply(dossier, name, actor=actor, reason=reason)
    return dossier


def _reference_checked(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError({field: _("The %(label)s is missing.") % {"label": label}})
    taken = Dossier.objects.filter(transfer_decision_no=value).exists() or (
        Dossier.objects.filter(court_case_no=value).exists()
    )
    if taken:
        raise ValidationError(
            {field: _("%(value)s is already recorded on another dossier.") % {"value": value}}
        )
    return value


def dossier_transfer_grant(
    *, dossier_id: int, decision_no: str, decided_on: date, actor: Actor, today: date | None = None
) -> Dossier:
    """The department granted the written transfer decision: its number is recorded (the bank
    quotes it when the money arrives)."""
    require_permission(actor, RUN, action=_("record a transfer decision"))
    today = _today(today)
    decision_no = _reference_checked(decision_no, "decision_no", _("decision number"))
    if not isinstance(decided_on, date) or decided_on > today:
        raise ValidationError({"decided_on": _("The decision date is missing or in the future.")})
    with transaction.atomic():
        _case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.TRANSFER_REQUESTED], _("recording the transfer decision"))
        transition_apply(
            dossier,
            "transfer_grant",
            actor=actor,
            reason=decision_no,
            decision_no=decision_no,
            decided_on=decided_on,
        )
    return dossier


def dossier_transfer_notify(
    *, dossier_id: int, actor: Actor, today: date | None = None
) -> list[EnforcementDocument]:
    """Notify each bank holding money in writing to transfer the premiums (Art. 63)."""
    require_permission(actor, RUN, action=_("notify the bank to transfer"))
    today = _today(today)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.TRANSFER_GRANTED], _("notifying the bank"))
        transition_apply(dossier, "transfer_notify_bank", actor=actor)
        # The premiums with the late fee to the day of transfer: what is owed today, and what
        # the fee adds each day until the bank transfers it (the decision's amount was as of
        # the request).
        owed = case_owed(case.pk, as_of=today)
        daily = case_owed(case.pk, as_of=today + timedelta(days=1)).late_fee - owed.late_fee
        remaining = owed.total
        documents = []
        for account in dossier.accounts.filter(balance__gt=0).order_by("-balance", "pk"):
            if remaining <= 0:
                break
            amount = min(remaining, account.balance)
            remaining -= amount
            documents.append(
                _document(
                    dossier,
                    case,
                    DocumentKind.TRANSFER_NOTICE,
                    addressee=account.bank,
                    on=today,
                    content=snapshots.transfer_notice(
                        dossier, account, amount=amount, as_of=today, daily=daily
                    ),
                )
            )
    return documents


def dossier_money_confirm(*, dossier_id: int, arrival_id: int, actor: Actor) -> Dossier:
    """Finance confirms that an arrival matched to the case is the money of this enforcement:
    it quotes the transfer decision number (transfer) or the court case number (auction)."""
    require_permission(actor, CONFIRM_MONEY, action=_("confirm money from enforcement"))
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        arrival = Arrival.objects.select_for_update().get(pk=arrival_id)
        if dossier.state == DossierState.TRANSFER_NOTIFIED:
            name, expected = "transfer_confirm", dossier.transfer_decision_no
        elif dossier.state == DossierState.COURT_RULED:
            name, expected = "proceeds_confirm", dossier.court_case_no
        else:
            raise _state_refusal(dossier, _("confirming money from enforcement"))
        if arrival.case_id != case.pk or arrival.state not in (
            ArrivalState.MATCHED,
            ArrivalState.POSTED,
        ):
            raise ValidationError(
                _("Arrival %(ref)s is not matched to case %(case)s.")
                % {"ref": arrival.arrival_ref, "case": case.case_no}
            )
        if arrival.reference != expected:
            raise ValidationError(
                _("Arrival %(ref)s quotes %(quoted)s, not %(expected)s.")
                % {
                    "ref": arrival.arrival_ref,
                    "quoted": arrival.reference or "—",
                    "expected": expected,
                }
            )
        transition_apply(
            dossier,
            name,
            actor=actor,
            reason=Reason("arrival_amount", arrival=arrival.arrival_ref, amount=arrival.amount),
            arrival=arrival,
        )
    return dossier


# --- the guarantee route ------------------------------------------------------------------------


def dossier_guarantee_require(
    *, dossier_id: int, actor: Actor, today: date | None = None
) -> EnforcementDocument:
    """The accounts hold less than is owed: require a guarantee and a deferred-payment
    agreement (Social Insurance Law Art. 63 para. 2)."""
    require_permission(actor, RUN, action=_("require a guarantee"))
    today = _today(today)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.INQUIRY_ANSWERED], _("requiring a guarantee"))
        owed = case_owed(case.pk, as_of=today).total
        found = balance_found(dossier)
        if found >= owed:
            raise ValidationError(
                _(
                    "The accounts found hold %(found)s yuan, enough for the %(owed)s yuan owed: "
                    "request a transfer decision instead."
                )
                % {"found": found, "owed": owed}
            )
        transition_apply(
            dossier,
            "guarantee_require",
            actor=actor,
            reason=Reason("owed_and_found", owed=owed, found=found),
        )
        return _document(
            dossier,
            case,
            DocumentKind.GUARANTEE,
            addressee=case.unit.name,
            on=today,
            content=snapshots.guarantee(case, on=today, owed=owed, found=found),
        )


@dataclass(frozen=True)
class GuaranteeGiven:
    kind: str
    guarantor: str
    value: object
    description: str = ""


def _guarantee_checked(guarantee: GuaranteeGiven) -> Decimal:
    errors = {}
    if guarantee.kind not in GuaranteeKind.values:
        errors["kind"] = _("%(kind)s is not a kind of guarantee (one of %(all)s).") % {
            "kind": guarantee.kind,
            "all": ", ".join(GuaranteeKind.values),
        }
    if not guarantee.guarantor.strip():
        errors["guarantor"] = _("Name the guarantor or the property.")
    try:
        value = Decimal(str(guarantee.value))
        if not value.is_finite() or value <= 0:
            raise InvalidOperation
    except InvalidOperation:
        errors["value"] = _("The guarantee's value must be a positive amount.")
        value = None
    if errors or value is None:  # value is None only with an error
        raise ValidationError(errors)
    return value.quantize(Decimal("0.01"))


def dossier_deferred_sign(
    *,
    dossier_id: int,
    guarantee: GuaranteeGiven,
    installment_count: int,
    actor: Actor,
    signatory: str = "",
    today: date | None = None,
) -> Dossier:
    """The unit gives its guarantee and signs a deferred-payment agreement (延期缴费协议): an
    agreement of kind `deferred` with the installment machinery of every agreement."""
    require_permission(actor, RUN, action=_("sign a deferred-payment agreement"))
    today = _today(today)
    value = _guarantee_checked(guarantee)
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(
            dossier,
            [DossierState.GUARANTEE_REQUIRED, DossierState.GUARANTEE_LAPSED],
            _("signing the deferred-payment agreement"),
        )
        agreement = agreement_draft(
            case_id=case.pk,
            installment_count=installment_count,
            actor=actor,
            drafted_on=today,
            note=f"dossier {dossier.dossier_no}",
            deferred=True,
        )
        agreement = agreement_sign(
            agreement_id=agreement.pk, actor=actor, signed_on=today, signatory=signatory
        )
        Guarantee.objects.create(
            dossier=dossier,
            kind=guarantee.kind,
            guarantor=guarantee.guarantor.strip(),
            value=value,
            description=guarantee.description.strip(),
            given_on=today,
        )
        transition_apply(
            dossier, "deferred_sign", actor=actor, reason=agreement.number, agreement=agreement
        )
    return dossier


# --- the court route ----------------------------------------------------------------------------


def _window_checked(dossier: Dossier, today: date) -> None:
    if dossier.demand_deadline is None or today <= dossier.demand_deadline:
        raise ValidationError(
            _(
                "The written demand's time to perform runs until %(date)s: the court can be "
                "applied to only after it (Administrative Enforcement Law Art. 54)."
            )
            % {"date": dossier.demand_deadline or "—"}
        )
    opens, closes = dossier.court_window_opens, dossier.court_window_closes
    if opens is None or closes is None:  # fixed with the demand deadline when it was served
        raise ValueError(f"dossier {dossier.pk}: the court window is not fixed")
    if today < opens:
        raise ValidationError(
            _(
                "The periods for reconsideration and lawsuit have not passed: the court can be "
                "applied to from %(opens)s (Administrative Enforcement Law Art. 53)."
            )
            % {"opens": dossier.court_window_opens}
        )
    if today > closes:
        raise ValidationError(
            _(
                "The three months to apply to the court ended on %(closes)s "
                "(Administrative Enforcement Law Art. 53)."
            )
            % {"closes": dossier.court_window_closes}
        )


def dossier_court_propose(*, dossier_id: int, actor: Actor, today: date | None = None) -> Dossier:
    """Propose the application to the people's court for compulsory enforcement: the unit
    neither paid in full nor gave a guarantee (Art. 63 para. 2), within the window of Art. 53."""
    require_permission(actor, RUN, action=_("propose a court application"))
    today = _today(today)
    with transaction.atomic():
        _case, dossier = _locked(dossier_id)
        _expect(dossier, COURT_SOURCES, _("proposing a court application"))
        _window_checked(dossier, today)
        transition_apply(dossier, "court_propose", actor=actor, by=_user(actor))
    return dossier


def dossier_court_approve(
    *, dossier_id: int, court: str, actor: Actor, court_uscc: str = "", today: date | None = None
) -> EnforcementDocument:
    """A second collection user approves: the application with its list of evidence, assembled
    from the ledger, goes to the court."""
    require_permission(actor, APPROVE, action=_("approve a court application"))
    today = _today(today)
    court = court.strip()
    if not court:
        raise ValidationError({"court": _("Name the court applied to.")})
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.COURT_PROPOSED], _("approving the court application"))
        _require_second(actor, dossier, _("the court application"))
        _window_checked(dossier, today)
        transition_apply(
            dossier,
            "court_approve",
            actor=actor,
            reason=court,
            by=_user(actor),
            court=court,
            court_uscc=court_uscc.strip(),
        )
        return _document(
            dossier,
            case,
            DocumentKind.COURT_APPLICATION,
            addressee=court,
            on=today,
            content=snapshots.court_application(dossier, case, on=today),
        )


def dossier_court_rule(
    *,
    dossier_id: int,
    court_case_no: str,
    ruled_on: date,
    ruling: str,
    actor: Actor,
    today: date | None = None,
) -> Dossier:
    """The court ruled to enforce: its case number is recorded (the court quotes it when the
    proceeds of the seizure or auction arrive)."""
    require_permission(actor, RUN, action=_("record the court's ruling"))
    today = _today(today)
    court_case_no = _reference_checked(court_case_no, "court_case_no", _("court case number"))
    if not isinstance(ruled_on, date) or ruled_on > today:
        raise ValidationError({"ruled_on": _("The ruling date is missing or in the future.")})
    with transaction.atomic():
        _case, dossier = _locked(dossier_id)
        _expect(dossier, [DossierState.COURT_APPLIED], _("recording the ruling"))
        transition_apply(
            dossier,
            "court_rule",
            actor=actor,
            reason=court_case_no,
            court_case_no=court_case_no,
            ruled_on=ruled_on,
            ruling=ruling.strip(),
        )
    return dossier


# --- the fine referral and closing --------------------------------------------------------------


def dossier_fine_refer(
    *, dossier_id: int, department: str, actor: Actor, today: date | None = None
) -> FineReferral:
    """Refer the unit to the administrative department for the fine of one to three times the
    amount owed (Social Insurance Law Art. 86). Once per dossier."""
    require_permission(actor, RUN, action=_("refer a fine"))
    today = _today(today)
    department = department.strip()
    if not department:
        raise ValidationError({"department": _("Name the department referred to.")})
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        if dossier.state == DossierState.CLOSED:
            raise _state_refusal(dossier, _("referring a fine"))
        if FineReferral.objects.filter(dossier=dossier).exists():
            raise ValidationError(
                _("Dossier %(no)s was already referred for a fine.") % {"no": dossier.dossier_no}
            )
        owed = case_owed(case.pk, as_of=today).total
        document = _document(
            dossier,
            case,
            DocumentKind.FINE_REFERRAL,
            addressee=department,
            on=today,
            content=snapshots.fine_referral(case, on=today, owed=owed),
        )
        referral = FineReferral.objects.create(
            dossier=dossier,
            referral_no=document.number,
            department=department,
            referred_on=today,
            amount_owed=owed,
            referred_by=actor_label(actor),
        )
        audit_record(
            dossier,
            "fine_refer",
            actor=actor,
            reason=Reason("fine_referred", document=document.number, owed=owed),
            from_state=dossier.state,
        )
    return referral


def dossier_close(
    *, dossier_id: int, reason: str, actor: Actor, note: str = "", today: date | None = None
) -> Dossier:
    """Close the dossier, saying why: the case settled, under agreement or written off (its
    state must say so), or the court's proceedings ended (after a ruling)."""
    require_permission(actor, RUN, action=_("close an enforcement dossier"))
    today = _today(today)
    if reason not in CloseReason.values:
        raise ValidationError(
            {"reason": _("%(reason)s is not a reason to close.") % {"reason": reason}}
        )
    with transaction.atomic():
        case, dossier = _locked(dossier_id)
        _expect(dossier, OPEN_DOSSIER_STATES, _("closing"))
        if reason == CloseReason.PROCEEDINGS_ENDED:
            if dossier.state not in (DossierState.COURT_RULED, DossierState.PROCEEDS_RECEIVED):
                raise _state_refusal(dossier, _("closing because the proceedings ended"))
            if not note.strip():
                raise ValidationError({"note": _("Say how the court's proceedings ended.")})
        elif CASE_CLOSES.get(case.state) != reason:
            raise ValidationError(
                _("Case %(case)s is %(state)s: the dossier cannot close as “%(reason)s”.")
                % {
                    "case": case.case_no,
                    "state": case.get_state_display(),
                    "reason": CloseReason(reason).label,
                }
            )
        transition_apply(
            dossier,
            "close",
            actor=actor,
            reason=note.strip() or Reason("dossier_closed", close_reason=reason),
            on=today,
            reason_code=reason,
            note=note.strip(),
        )
    return dossier


# --- the daily run ------------------------------------------------------------------------------


@dataclass
class DossierReport:
    closed: list[int]
    guarantees_lapsed: list[int]

    def lines(self, as_of: date) -> list[str]:
        return [
            _(
                "%(on)s: %(n)d enforcement dossier(s) closed (case settled, under agreement or "
                "written off)"
            )
            % {"on": as_of, "n": len(self.closed)},
            _("%(on)s: %(n)d enforcement dossier(s) without the guarantee required")
            % {"on": as_of, "n": len(self.guarantees_lapsed)},
        ]


DAILY = System("run_daily")


def dossiers_follow(*, as_of: date, actor: Actor = DAILY) -> DossierReport:
    """The daily run's step: close the open dossiers whose case settled, went under agreement or
    was written off, and mark those whose guarantee period passed without one.

    One dossier per transaction: dossiers are worked by hand, so the open ones number in the
    hundreds, not the hundreds of thousands the set-based steps are built for.
    """
    require_permission(actor, RUN, action=_("move the dossiers that are due"))
    report = DossierReport(closed=[], guarantees_lapsed=[])
    closing = (
        Dossier.objects.filter(state__in=OPEN_DOSSIER_STATES, case__state__in=list(CASE_CLOSES))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in list(closing):
        with transaction.atomic():
            case, dossier = _locked(pk)
            if dossier.state == DossierState.CLOSED or case.state not in CASE_CLOSES:
                continue
            reason = CASE_CLOSES[case.state]
            transition_apply(
                dossier,
                "close",
                actor=actor,
                reason=Reason(
                    "case_closes_dossier", case=case.case_no, case_state=case.state, on=as_of
                ),
                on=as_of,
                reason_code=reason,
            )
            report.closed.append(pk)
    lapsing = (
        Dossier.objects.filter(state=DossierState.GUARANTEE_REQUIRED, guarantee_deadline__lt=as_of)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in list(lapsing):
        with transaction.atomic():
            _case, dossier = _locked(pk)
            if dossier.state != DossierState.GUARANTEE_REQUIRED:
                continue
            transition_apply(
                dossier,
                "guarantee_lapse",
                actor=actor,
                reason=Reason("guarantee_lapsed", on=dossier.guarantee_deadline),
            )
            report.guarantees_lapsed.append(pk)
    return report
