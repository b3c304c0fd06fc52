"""Recording a unit's succession event: merger, split, bankruptcy, sale or lease by auction.

One service per kind (`unit_record_merger`, `unit_record_split`, `unit_record_bankruptcy`,
`unit_record_auction`). Each checks its input whole first (a `ValidationError` listing every
problem, nothing written), then in one transaction locks the unit and its open cases (in key
order), records the event and its parties, moves the unit's status by its declared transition
(the audit row goes to each open case), and routes the cases to the new obligor
(`replenish.services.succession`). `unit_event_attach` keeps a document of the event.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, require_permission
from kernel.uploads import document_check, removed_on_failure
from replenish.models import OPEN_STATES, SUCCESSOR_KINDS, ArrearsCase, owed_by_unit
from replenish.reasons import Reason
from replenish.services.succession import case_split, cases_pass_to, cases_stop_fee_for_bankruptcy
from replenish.services.transitions import transition_apply
from units.identifiers import validate_uscc
from units.models import (
    DOCUMENT_EXTENSIONS,
    Counterparty,
    CounterpartyKind,
    Unit,
    UnitEvent,
    UnitEventAttachment,
    UnitEventKind,
    UnitStatus,
)

# Shares are stored as a fraction of two integer columns; a finer one is a typing error.
MAX_SHARE_DENOMINATOR = 1_000_000


@dataclass(frozen=True)
class Party:
    """A party an event names, as staff enter it. `share` only for a separated party: a
    Fraction, a Decimal, an int or text such as "1/3" or "0.25"."""

    name: str
    uscc: str = ""
    head: str = ""
    contact: str = ""
    share: Fraction | Decimal | int | str | None = None


@dataclass(frozen=True)
class EventDocument:
    """What every event keeps besides its parties."""

    occurred_on: date
    document_ref: str = ""
    note: str = ""


# --- input checks (nothing written yet) -------------------------------------------------------


def _share(value: object) -> Fraction:
    if isinstance(value, (bool, float)):
        raise ValueError(_("give the share exactly, as a fraction such as 1/3 or a decimal"))
    if isinstance(value, str):
        text = value.strip().replace("／", "/")
        if not text:
            raise ValueError(_("missing"))
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                _("%(value)s is not a fraction such as 1/3 or a decimal such as 0.25")
                % {"value": text}
            ) from None
    if isinstance(value, Decimal):
        try:
            return Fraction(value)
        except (ValueError, OverflowError, InvalidOperation):
            raise ValueError(_("%(value)s is not a number") % {"value": value}) from None
    if isinstance(value, Fraction | int):
        return Fraction(value)
    raise ValueError(_("missing"))


def _party_errors(
    label: str, party: Party, *, uscc_required: bool, errors: list[str]
) -> tuple[str, str]:
    """Check one party; returns its normalized (name, uscc)."""
    name = party.name.strip()
    if not name:
        errors.append(_("%(party)s: name is missing.") % {"party": label})
    uscc = ""
    if party.uscc.strip():
        try:
            uscc = validate_uscc(party.uscc)
        except ValidationError as exc:
            errors.append(
                _("%(party)s: Unified Social Credit Code: %(reason)s")
                % {"party": label, "reason": " ".join(exc.messages)}
            )
    elif uscc_required:
        errors.append(_("%(party)s: Unified Social Credit Code is missing.") % {"party": label})
    return name, uscc


def _date_errors(occurred_on: date, *, what: str, today: date, errors: list[str]) -> None:
    if occurred_on > today:
        errors.append(
            _("%(what)s %(date)s is in the future (today is %(today)s).")
            % {"what": what, "date": occurred_on, "today": today}
        )


def _fail_if(errors: list[str]) -> None:
    if errors:
        raise ValidationError(errors)


# --- recording ----------------------------------------------------------------------------------


def _record(
    *,
    unit_id: int,
    kind: str,
    document: EventDocument,
    parties: Sequence[tuple[str, str, str, Party, Fraction | None]],
    actor: Actor,
    court: str = "",
    court_case_no: str = "",
) -> tuple[Unit, UnitEvent, list[Counterparty], list[ArrearsCase]]:
    """Lock the unit, check it against the parties, write the event and its counterparties, and
    lock its open cases. `parties` are (counterparty kind, name, uscc, party, share)."""
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    if unit.status != UnitStatus.ACTIVE:
        raise ValidationError(
            _("Unit %(unit)s is %(status)s already: a unit has one succession event.")
            % {"unit": unit.uscc, "status": unit.get_status_display()},
            code="unit_status",
        )
    same = [name for _kind, name, uscc, _party, _share in parties if uscc and uscc == unit.uscc]
    if same:
        raise ValidationError(
            _("%(party)s is the unit itself (%(uscc)s): name the party it passes to.")
            % {"party": same[0], "uscc": unit.uscc},
            code="self",
        )
    event = UnitEvent.objects.create(
        unit=unit,
        kind=kind,
        occurred_on=document.occurred_on,
        document_ref=document.document_ref.strip(),
        court=court.strip(),
        court_case_no=court_case_no.strip(),
        note=document.note.strip(),
        recorded_by=actor_label(actor),
    )
    known = dict(
        Unit.objects.filter(uscc__in=[p[2] for p in parties if p[2]]).values_list("uscc", "pk")
    )
    counterparties = Counterparty.objects.bulk_create(
        Counterparty(
            kind=cp_kind,
            event=event,
            unit_id=known.get(uscc),
            name=name,
            uscc=uscc,
            head=party.head.strip(),
            contact=party.contact.strip(),
            share_numerator=share.numerator if share is not None else None,
            share_denominator=share.denominator if share is not None else None,
        )
        for cp_kind, name, uscc, party, share in parties
    )
    cases = list(
        ArrearsCase.objects.select_for_update(of=("self",))
        .select_related("unit", "obligor")
        .filter(owed_by_unit(unit.pk), state__in=OPEN_STATES)
        .order_by("pk")
    )
    return unit, event, counterparties, cases


def _units_owed_through(unit: Unit, party: Counterparty) -> None:
    """Units whose arrears `unit` answered for as their merging party are answered for by `party`
    now: a line of theirs imported later opens a case owed by it."""
    Unit.objects.filter(obligor__unit=unit, obligor__kind__in=SUCCESSOR_KINDS).update(obligor=party)


def unit_record_merger(
    *,
    unit_id: int,
    merging_party: Party,
    document: EventDocument,
    actor: Actor,
    today: date | None = None,
) -> UnitEvent:
    """The unit was absorbed by `merging_party`, which from now on owes its open cases."""
    require_permission(actor, "units.record_unitevent")
    today = today or timezone.localdate()
    errors: list[str] = []
    _date_errors(document.occurred_on, what=_("Merger date"), today=today, errors=errors)
    name, uscc = _party_errors(_("Merging party"), merging_party, uscc_required=True, errors=errors)
    _fail_if(errors)
    with transaction.atomic():
        unit, event, (party,), cases = _record(
            unit_id=unit_id,
            kind=UnitEventKind.MERGER,
            document=document,
            parties=[(CounterpartyKind.MERGING_PARTY, name, uscc, merging_party, None)],
            actor=actor,
        )
        why = Reason("unit_merged", party=party.name, uscc=party.uscc, on=event.occurred_on)
        transition_apply(
            unit,
            "merge",
            actor=actor,
            reason=why,
            audit_case_ids=[c.pk for c in cases],
            obligor=party,
        )
        cases_pass_to(cases, party, on=today, actor=actor, reason=why)
        _units_owed_through(unit, party)
    return event


def _share_checked(label: str, party: Party, errors: list[str]) -> Fraction | None:
    """A successor's share, or None when it is not a number; what is wrong goes to `errors`."""
    try:
        share = _share(party.share)
    except ValueError as exc:
        errors.append(_("%(party)s: share: %(reason)s.") % {"party": label, "reason": exc})
        return None
    if share <= 0:
        errors.append(
            _("%(party)s: share %(share)s must be greater than 0.")
            % {"party": label, "share": share}
        )
    elif share.denominator > MAX_SHARE_DENOMINATOR:
        errors.append(
            _("%(party)s: share %(share)s is finer than 1/%(max)s.")
            % {"party": label, "share": party.share, "max": MAX_SHARE_DENOMINATOR}
        )
    return share


def unit_record_split(
    *,
    unit_id: int,
    successors: Sequence[Party],
    document: EventDocument,
    actor: Actor,
    today: date | None = None,
) -> UnitEvent:
    """The unit was divided among `successors`, each taking its share (shares > 0, summing to
    exactly 1). Each open case is apportioned at once into one case per successor."""
    require_permission(actor, "units.record_unitevent")
    require_permission(actor, "replenish.transfer_case")
    today = today or timezone.localdate()
    errors: list[str] = []
    _date_errors(document.occurred_on, what=_("Split date"), today=today, errors=errors)
    if len(successors) < 2:
        errors.append(_("A split names at least two separated parties."))
    checked: list[tuple[str, str, str, Party, Fraction | None]] = []
    first_of: dict[str, int] = {}
    shares: list[Fraction] = []
    for number, party in enumerate(successors, start=1):
        label = _("Successor %(n)s") % {"n": number}
        name, uscc = _party_errors(label, party, uscc_required=True, errors=errors)
        if uscc in first_of:
            errors.append(
                _("%(party)s: the same party as successor %(first)s (%(uscc)s).")
                % {"party": label, "first": first_of[uscc], "uscc": uscc}
            )
        elif uscc:
            first_of[uscc] = number
        share = _share_checked(label, party, errors)
        if share is not None:
            shares.append(share)
        checked.append((CounterpartyKind.SEPARATED_PARTY, name, uscc, party, share))
    if len(shares) == len(successors) and successors and sum(shares) != 1:
        errors.append(
            _("The shares sum to %(sum)s; they must sum to exactly 1.") % {"sum": sum(shares)}
        )
    _fail_if(errors)
    with transaction.atomic():
        unit, event, parties, cases = _record(
            unit_id=unit_id,
            kind=UnitEventKind.SPLIT,
            document=document,
            parties=checked,
            actor=actor,
        )
        why = Reason(
            "unit_split_among", parties=", ".join(f"{p.name} ({p.share})" for p in parties)
        )
        transition_apply(
            unit, "split", actor=actor, reason=why, audit_case_ids=[c.pk for c in cases]
        )
        for case in cases:
            case_split(case_id=case.pk, actor=actor, on=today)
    return event


def unit_record_bankruptcy(
    *,
    unit_id: int,
    court: str,
    court_case_no: str,
    accepted_on: date,
    liquidation_group: Party,
    actor: Actor,
    document_ref: str = "",
    note: str = "",
    today: date | None = None,
) -> UnitEvent:
    """The court accepted the unit's bankruptcy on `accepted_on`: the liquidation group owes its
    open cases, and their late fee is fixed to the day before acceptance and stops there."""
    require_permission(actor, "units.record_unitevent")
    today = today or timezone.localdate()
    errors: list[str] = []
    _date_errors(accepted_on, what=_("Acceptance date"), today=today, errors=errors)
    if not court.strip():
        errors.append(_("Court is missing."))
    if not court_case_no.strip():
        errors.append(_("Court case number is missing."))
    label = _("Liquidation group")
    name, uscc = _party_errors(label, liquidation_group, uscc_required=False, errors=errors)
    if not liquidation_group.head.strip():
        errors.append(_("%(party)s: head is missing.") % {"party": label})
    _fail_if(errors)
    with transaction.atomic():
        unit, event, (group,), cases = _record(
            unit_id=unit_id,
            kind=UnitEventKind.BANKRUPTCY,
            document=EventDocument(occurred_on=accepted_on, document_ref=document_ref, note=note),
            parties=[(CounterpartyKind.LIQUIDATION_GROUP, name, uscc, liquidation_group, None)],
            actor=actor,
            court=court,
            court_case_no=court_case_no,
        )
        why = Reason(
            "bankruptcy_accepted",
            on=accepted_on,
            court=event.court,
            court_case=event.court_case_no,
        )
        transition_apply(
            unit,
            "enter_bankruptcy",
            actor=actor,
            reason=why,
            audit_case_ids=[c.pk for c in cases],
            obligor=group,
            fee_stops_on=accepted_on - timedelta(days=1),
        )
        cases_stop_fee_for_bankruptcy(
            cases, accepted_on=accepted_on, actor=actor, source=f"bankruptcy:{event.pk}"
        )
        cases_pass_to(cases, group, on=today, actor=actor, reason=why)
        _units_owed_through(unit, group)
    return event


def unit_record_auction(
    *,
    unit_id: int,
    lease: bool,
    competent_authority: Party,
    document: EventDocument,
    actor: Actor,
    today: date | None = None,
) -> UnitEvent:
    """The unit was sold (or, with `lease`, leased) by auction: the competent authority owes its
    open cases."""
    require_permission(actor, "units.record_unitevent")
    today = today or timezone.localdate()
    errors: list[str] = []
    _date_errors(document.occurred_on, what=_("Auction date"), today=today, errors=errors)
    name, uscc = _party_errors(
        _("Competent authority"), competent_authority, uscc_required=False, errors=errors
    )
    _fail_if(errors)
    kind = UnitEventKind.AUCTION_LEASE if lease else UnitEventKind.AUCTION_SALE
    with transaction.atomic():
        unit, event, (authority,), cases = _record(
            unit_id=unit_id,
            kind=kind,
            document=document,
            parties=[(CounterpartyKind.COMPETENT_AUTHORITY, name, uscc, competent_authority, None)],
            actor=actor,
        )
        why = Reason(
            "unit_event_owed_by", event=event.kind, on=event.occurred_on, party=authority.name
        )
        transition_apply(
            unit,
            "auction",
            actor=actor,
            reason=why,
            audit_case_ids=[c.pk for c in cases],
            obligor=authority,
        )
        cases_pass_to(cases, authority, on=today, actor=actor, reason=why)
        _units_owed_through(unit, authority)
    return event


def unit_event_attach(
    *, event_id: int, title: str, file: "File[Any]", actor: Actor
) -> UnitEventAttachment:
    """Keep a document of the event (court ruling, registration notice, auction confirmation)."""
    require_permission(actor, "units.record_unitevent")
    if not title.strip():
        raise ValidationError(_("Give the attachment a title."), code="title")
    name = (file.name or "").rsplit("/", 1)[-1]
    document_check(file, extensions=DOCUMENT_EXTENSIONS)
    with transaction.atomic(), removed_on_failure() as stored:
        event = UnitEvent.objects.select_for_update().get(pk=event_id)
        attachment = UnitEventAttachment(
            event=event, title=title.strip(), uploaded_by=actor_label(actor)
        )
        attachment.file.save(name, file, save=False)
        stored.append(attachment.file)
        attachment.save()
    return attachment
