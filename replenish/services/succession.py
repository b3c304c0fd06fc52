"""What a unit's succession event does to its cases (the events themselves:
`replenish.services.unit_events`).

* merger, auction: the case stays, its obligor becomes the merging party or the competent
  authority; an agreement live with the unit ends.
* bankruptcy: the same with the liquidation group, and the late fee is fixed to the day before the
  court's acceptance and stops there (企业破产法 art. 46).
* split (`case_split`): the case is apportioned into one new case per separated party, each owing
  its share, by controlled rounding (`kernel.money.apportion`); the original case is
  transferred. Every successor line keeps `source_line` (and through it the original unit, period
  and insured person) and the ledger shows the move as `transferred` entries, negative on the
  original line and positive on the successor's.
"""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, require_permission
from kernel.money import apportion
from replenish.models import ArrearsCase, ArrearsLine, LedgerKind
from replenish.reasons import Reason
from replenish.services.agreements import live_agreements_end
from replenish.services.ledger import Posting, ledger_post, lines_fee_fix
from replenish.services.numbering import case_number, case_scope, number_block_take
from replenish.services.transitions import (
    audit_record_set,
    declared_transition,
    transition_apply,
)
from units.models import Counterparty, CounterpartyKind, Unit, UnitEvent, UnitEventKind

ZERO_CELLS = (Decimal("0"), Decimal("0"), Decimal("0"))


def cases_pass_to(
    cases: list[ArrearsCase],
    obligor: Counterparty,
    *,
    on: date,
    actor: Actor,
    reason: Reason | str,
) -> None:
    """The locked open cases of a merged, bankrupt or auctioned unit are owed by `obligor` from
    now on; a live agreement with the unit ends (the case is due again until the new obligor
    signs)."""
    for case in cases:
        live_agreements_end(case, on=on, actor=actor, reason=reason)
    ArrearsCase.objects.filter(pk__in=[c.pk for c in cases]).update(obligor=obligor)
    for case in cases:
        case.obligor = obligor


def cases_stop_fee_for_bankruptcy(
    cases: list[ArrearsCase], *, accepted_on: date, actor: Actor, source: str
) -> None:
    """Fix the late fee of every line of these locked cases through the day before acceptance
    (a bankruptcy claim) and stop it there, for good (`bankruptcy_fee_stop`); a stop that is
    already earlier (an agreement in force) stays."""
    last_day = accepted_on - timedelta(days=1)
    ArrearsCase.objects.filter(pk__in=[c.pk for c in cases]).update(bankruptcy_fee_stop=last_day)
    for case in cases:
        case.bankruptcy_fee_stop = last_day
    lines = list(
        ArrearsLine.objects.select_for_update()
        .filter(case__in=cases)
        .exclude(employer_unpaid=0, employee_unpaid=0)
        .order_by("pk")
    )
    lines_fee_fix(
        lines,
        on=last_day,
        actor=actor,
        source=source,
        reason=Reason("fee_to_bankruptcy", on=accepted_on),
    )
    ArrearsLine.objects.filter(case__in=cases).filter(
        Q(fee_stops_on__isnull=True) | Q(fee_stops_on__gt=last_day)
    ).update(fee_stops_on=last_day)


def _shares_of(parties: list[Counterparty]) -> list[Fraction]:
    """The shares of a split's separated parties (each has one: recorded with the split)."""
    shares = [party.share for party in parties]
    if any(share is None for share in shares):
        raise ValueError("a separated party of the split has no share")
    return [share for share in shares if share is not None]


def case_split(*, case_id: int, actor: Actor, on: date | None = None) -> list[ArrearsCase]:
    """Apportion an open case of a split unit among the separated parties, by their shares.

    Each successor gets a new case (state registered, owed by the separated party, `predecessor`
    the original case) with one line per original line it takes a part of; the late fee is fixed
    to `on` first so that it moves with the debt. Every line's portions (employer, employee, fixed
    fee) across the successors sum exactly to the line's, and each successor's total is within
    0.01 of its exact share. The original case becomes `transferred`; a live agreement on it ends.
    """
    require_permission(actor, "replenish.transfer_case")
    on = on or timezone.localdate()
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("unit", "obligor")
            .get(pk=case_id)
        )
        # The split is that of whoever owes the case now: its unit, or a successor unit that
        # took it over and has split in turn.
        debtor = Unit.objects.filter(pk=case.debtor_unit_id).first()
        event = UnitEvent.objects.filter(unit=debtor, kind=UnitEventKind.SPLIT).first()
        if event is None and case.predecessor_id is not None:
            raise ValidationError(
                _("Case %(case)s is already a successor's share of a split case.")
                % {"case": case.case_no},
                code="successor_case",
            )
        if event is None:
            raise ValidationError(
                _("Unit %(unit)s has no split recorded: case %(case)s cannot be apportioned.")
                % {"unit": (debtor or case.unit).uscc, "case": case.case_no},
                code="no_split",
            )
        sources, _target = declared_transition(ArrearsCase, "transfer")
        if case.state not in sources:
            raise ValidationError(
                _(
                    "Case %(case)s is %(state)s: only a registered, notified, overdue or "
                    "agreement case can be apportioned among successors."
                )
                % {"case": case.case_no, "state": case.get_state_display()},
                code="case_state",
            )
        if on < event.occurred_on:
            raise ValidationError(
                _("Case %(case)s cannot pass to the successors on %(date)s, before the split.")
                % {"case": case.case_no, "date": on},
                code="date",
            )
        parties = list(event.parties.filter(kind=CounterpartyKind.SEPARATED_PARTY).order_by("pk"))
        why = Reason("unit_split", event=event.pk, count=len(parties))
        live_agreements_end(case, on=on, actor=actor, reason=why, case_follows=False)

        lines = list(
            ArrearsLine.objects.select_for_update()
            .filter(case=case)
            .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
            .order_by("pk")
        )
        if not lines:
            raise ValidationError(
                _("Case %(case)s owes nothing: there is nothing to apportion.")
                % {"case": case.case_no},
                code="nothing_owed",
            )
        source = f"split:{event.pk}"
        lines_fee_fix(
            [line for line in lines if line.principal_unpaid > 0],
            on=on,
            actor=actor,
            source=source,
            reason=Reason("fee_fixed_for_successors"),
        )
        cells = [
            amount
            for line in lines
            for amount in (line.employer_unpaid, line.employee_unpaid, line.fee_unpaid)
        ]
        table = apportion(cells, _shares_of(parties))

        first = number_block_take(scope=case_scope(on.year), count=len(parties))
        successors: list[ArrearsCase] = ArrearsCase.objects.bulk_create(
            ArrearsCase(
                case_no=case_number(on.year, first + offset),
                unit=case.unit,
                region_code=case.region_code,
                opened_on=on,
                obligor=party,
                predecessor=case,
                bankruptcy_fee_stop=case.bankruptcy_fee_stop,
            )
            for offset, party in enumerate(parties)
        )
        audit_record_set(
            successors,
            "open",
            actor=actor,
            reason=[
                Reason(
                    "split_share_taken_over",
                    share=party.share,
                    case=case.case_no,
                    party=party.name,
                    uscc=party.uscc,
                    unit=event.unit.name,
                )
                for party in parties
            ],
        )

        new_lines: list[ArrearsLine] = []
        new_fees = []  # the fixed fee each new line takes over, in the order of new_lines
        postings: list[Posting] = []
        apportioned = Reason("apportioned_among_successors")
        for index, line in enumerate(lines):
            rows = table[3 * index : 3 * index + 3]
            postings.append(
                Posting(
                    case_id=case.pk,
                    line_id=line.pk,
                    kind=LedgerKind.TRANSFERRED,
                    effective_on=on,
                    source=source,
                    employer=-line.employer_unpaid,
                    employee=-line.employee_unpaid,
                    late_fee=-line.fee_unpaid,
                    reason=apportioned,
                )
            )
            for column, successor in enumerate(successors):
                employer, employee, fee = (row[column] for row in rows)
                if (employer, employee, fee) == ZERO_CELLS:
                    continue
                new_fees.append(fee)
                new_lines.append(
                    ArrearsLine(
                        case=successor,
                        unit_id=line.unit_id,
                        person_id=line.person_id,
                        period=line.period,
                        base=line.base,
                        employer_amount=employer,
                        employee_amount=employee,
                        due_date=line.due_date,
                        source_line=line,
                        employer_unpaid=0,
                        employee_unpaid=0,
                        fee_unpaid=0,
                        fee_fixed_total=0,
                        fee_accrues_after=line.fee_accrues_after,
                        fee_stops_on=case.bankruptcy_fee_stop,
                    )
                )
        ArrearsLine.objects.bulk_create(new_lines)
        taken_over = Reason("taken_over_from_case", case=case.case_no)
        postings += [
            Posting(
                case_id=new.case_id,
                line_id=new.pk,
                kind=LedgerKind.TRANSFERRED,
                effective_on=on,
                source=source,
                employer=new.employer_amount,
                employee=new.employee_amount,
                late_fee=fee,
                reason=taken_over,
            )
            for new, fee in zip(new_lines, new_fees, strict=True)
        ]
        ledger_post(postings, actor=actor)
        transition_apply(case, "transfer", actor=actor, reason=why)
    return successors
