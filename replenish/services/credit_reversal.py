"""What reversing an arrival does to the credit it left (part of `arrival_reverse`, run inside
its transaction with the unit locked first; not a service of its own).

The rule (README, "Credit"): credit is fungible, so what the unit still has pays the take-back
first; what its offsets used is taken back from them, newest first — the case an offset paid owes
again what the reversed money paid, its `payment_applied` entries undone by `payment_reversed`
entries (the last money allocated first) and a settled case reopened. Money already refunded
cannot be taken back from the ledger: the reversal is refused and names the refunds, which
finance recovers from the unit first.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Min
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, actor_user
from kernel.money import LateFeePolicy
from kernel.sql import models_update
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    CreditEntry,
    CreditKind,
    CreditOffset,
    CreditRefund,
    LedgerEntry,
    LedgerKind,
    RefundState,
)
from replenish.reasons import Reason, reason_fields
from replenish.selectors import (
    late_fee_policy,
    money_posted_after_each,
    offsets_standing,
    unit_has_another_registered_case,
)
from replenish.services.agreement_reversal import agreement_after_reversal
from replenish.services.corrections import moved_by_offsets_corrections, still_on_line
from replenish.services.credit import (
    ZERO,
    offset_source,
    unit_credit,
    units_locked_for_credit,
)
from replenish.services.ledger import Posting, ledger_post, restored_fee_posting
from replenish.services.transitions import transition_apply


def credit_take_back(
    *,
    arrival: Arrival,
    case: ArrearsCase,
    amount: Decimal,
    on: date,
    reason: Reason | str,
    actor: Actor,
) -> None:
    """Take back `amount`, the credit a reversed arrival left (its overpayment, and what
    corrections moved off the lines it paid): the rule is in the module docstring."""
    unit_id = case.unit_id
    short = amount - max(unit_credit(unit_id), ZERO)
    if short > 0:
        undo: list[tuple[CreditOffset, Decimal]] = []
        for offset in (
            CreditOffset.objects.select_for_update()
            .filter(unit_id=unit_id, reversed_amount__lt=F("amount"))
            .order_by("-pk")
        ):
            take = min(short, offset.amount - offset.reversed_amount)
            undo.append((offset, take))
            short -= take
            if short <= 0:
                break
        offsets_undo(undo, on=on, reason=lambda offset: reason, actor=actor)
    if short > 0:
        refunds = CreditRefund.objects.filter(
            unit_id=unit_id, state__in=[RefundState.APPROVED, RefundState.PAID]
        ).order_by("pk")
        raise ValidationError(
            _(
                "%(amount)s of the credit this arrival left was refunded to the unit "
                "(%(refunds)s): recover it from the unit first, then reverse the arrival."
            )
            % {"amount": short, "refunds": ", ".join(r.refund_no for r in refunds) or "-"}
        )
    CreditEntry.objects.create(
        unit_id=unit_id,
        arrival=arrival,
        case=case,
        kind=CreditKind.REVERSED,
        amount=-amount,
        effective_on=on,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        **reason_fields(reason),
    )


# An offset is taken back from any case but one written off or transferred to successors (its
# money stays where it went, as an arrival's does).
OFFSET_UNDO_STATES = [
    state
    for state in CaseState.values
    if state not in (CaseState.WRITTEN_OFF, CaseState.TRANSFERRED)
]


def offsets_take_back_for_earlier_arrivals(*, as_of: date, actor: Actor) -> list[int]:
    """The adjustment's first step: take back in full each credit offset dated after a matched
    arrival of its case (money arrived before the offset but read after it), so that the arrival
    is posted in the order the money arrived; the adjustment offsets what credit is left again
    after posting (or collection does, with `CREDIT_OFFSET_AUTOMATIC` off). Not for an arrival
    that a later arrival already posted holds anyway, nor on a case written off or transferred.
    Set-based: one transaction and a fixed number of statements for up to `BULK_BATCH_SIZE`
    cases (`offsets_undo`). Returns the offsets taken back."""
    later_arrival, later_offset = money_posted_after_each()
    earliest = dict(
        Arrival.objects.filter(
            state=ArrivalState.MATCHED,
            arrived_on__lte=as_of,
            case__state__in=OFFSET_UNDO_STATES,
        )
        .filter(later_offset)
        .exclude(later_arrival)
        .values("case_id")
        .annotate(first=Min("arrived_on"))
        .values_list("case_id", "first")
        .order_by()
    )
    batch_size = settings.BULK_BATCH_SIZE
    case_ids = sorted(earliest)
    taken_back: list[int] = []
    for start in range(0, len(case_ids), batch_size):
        batch = case_ids[start : start + batch_size]
        with transaction.atomic():
            units_locked_for_credit(
                ArrearsCase.objects.filter(pk__in=batch).values_list("unit_id", flat=True)
            )
            offsets = [
                offset
                for offset in offsets_standing()
                .select_for_update()
                .filter(case_id__in=batch)
                .order_by("case_id", "-offset_on", "-pk")
                if offset.offset_on > earliest[offset.case_id]
            ]
            offsets_undo(
                [(offset, offset.amount - offset.reversed_amount) for offset in offsets],
                on=as_of,
                reason=lambda offset: Reason("posted_before_offset", on=earliest[offset.case_id]),
                actor=actor,
            )
            taken_back += [offset.pk for offset in offsets]
    return taken_back


def offsets_undo(
    undo: Sequence[tuple[CreditOffset, Decimal]],
    *,
    on: date,
    reason: Callable[[CreditOffset], Reason | str],
    actor: Actor,
) -> None:
    """Undo these amounts of these (locked) offsets, in the order given (within a case, the
    newest offset first), with the unit locked: of each, the last money it allocated first
    (within a line the employer portion, then the employee portion, then the late fee: the
    allocation order reversed). One ledger posting, one write of the offsets and of their credit
    entries for all of them; then each case reopens if it owes again, and its agreement is put
    back as the money's absence says (`agreement_after_reversal`)."""
    undo = [(offset, amount) for offset, amount in undo if amount > 0]
    if not undo:
        return
    case_ids = sorted({offset.case_id for offset, _amount in undo})
    cases = {
        case.pk: case
        for case in ArrearsCase.objects.select_for_update().filter(pk__in=case_ids).order_by("pk")
    }
    why = {
        offset.pk: Reason("offset_taken_back", offset=offset.pk, why=reason(offset))
        for offset, _amount in undo
    }
    postings, taken = _undo_postings(undo, case_ids=case_ids, on=on, why=why)
    ledger_post(postings, actor=actor)
    # The offsets are locked: what they had taken back is what they read.
    for offset, _amount in undo:
        offset.reversed_amount += taken[offset.pk]
    models_update([offset for offset, _amount in undo], ["reversed_amount"])
    user, label = actor_user(actor), actor_label(actor)
    CreditEntry.objects.bulk_create(
        CreditEntry(
            unit_id=offset.unit_id,
            case_id=offset.case_id,
            offset=offset,
            kind=CreditKind.OFFSET_REVERSED,
            amount=taken[offset.pk],
            effective_on=on,
            actor=user,
            actor_label=label,
            **reason_fields(why[offset.pk]),
        )
        for offset, _amount in undo
    )
    # Each case once, after all its offsets, with the reason of the first undone (the newest).
    first_offset: dict[int, int] = {}
    for offset, _amount in undo:
        first_offset.setdefault(offset.case_id, offset.pk)
    _cases_after_undo(
        [cases[case_id] for case_id in case_ids], first_offset, why=why, on=on, actor=actor
    )


def _undo_postings(
    undo: Sequence[tuple[CreditOffset, Decimal]],
    *,
    case_ids: list[int],
    on: date,
    why: dict[int, Reason],
) -> tuple[list[Posting], dict[int, Decimal]]:
    """The ledger postings that undo these offsets, with the lines they reach locked, and the
    amount each takes back (less than asked only where the lines hold less of its money)."""
    sources = {offset.pk: offset_source(offset.pk) for offset, _amount in undo}
    # What each offset put on each line, net of what was taken back already, in allocation order.
    net: dict[str, dict[int, list[Decimal]]] = defaultdict(dict)
    for source, line_id, employer, employee, late_fee in (
        # By its case too: the ledger has no index on `source`.
        LedgerEntry.objects.filter(
            case_id__in=case_ids,
            source__in=sources.values(),
            kind__in=[LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED],
        )
        .order_by("pk")
        .values_list("source", "line_id", "employer", "employee", "late_fee")
    ):
        paid = net[source].setdefault(line_id, [ZERO, ZERO, ZERO])
        paid[0] -= employer
        paid[1] -= employee
        paid[2] -= late_fee
    lines = {
        line.pk: line
        for line in ArrearsLine.objects.select_for_update()
        .filter(pk__in={line_id for paid in net.values() for line_id in paid})
        .order_by("pk")
    }
    # What a correction moved off a line an offset paid is credit again already: not taken back
    # from the line a second time.
    moved = moved_by_offsets_corrections(list(sources))
    policy = late_fee_policy()
    postings: list[Posting] = []
    taken: dict[int, Decimal] = {}
    for offset, amount in undo:
        left = amount
        for line_id, paid in reversed(net[sources[offset.pk]].items()):
            if left <= 0:
                break
            line = lines[line_id]
            on_line = still_on_line(line, (paid[0], paid[1], paid[2]), moved[offset.pk])
            left -= _take_back_from_line(
                line,
                on_line,
                left,
                offset=offset,
                on=on,
                why=why[offset.pk],
                policy=policy,
                postings=postings,
            )
        taken[offset.pk] = amount - left
    return postings, taken


def _take_back_from_line(
    line: ArrearsLine,
    on_line: tuple[Decimal, Decimal, Decimal],
    left: Decimal,
    *,
    offset: CreditOffset,
    on: date,
    why: Reason,
    policy: LateFeePolicy,
    postings: list[Posting],
) -> Decimal:
    """Take up to `left` of the offset's money `on_line` (employer, employee, fee) back off the
    line, the employer portion first; appends the postings and returns the amount taken. The
    line object is brought to what the ledger will say, for the next offset of the same line."""
    employer, employee, late_fee = on_line
    back_employer = min(left, employer)
    back_employee = min(left - back_employer, employee)
    back_fee = min(left - back_employer - back_employee, late_fee)
    if not (back_employer or back_employee or back_fee):
        return ZERO
    source = offset_source(offset.pk)
    postings.append(
        Posting(
            case_id=offset.case_id,
            line_id=line.pk,
            kind=LedgerKind.PAYMENT_REVERSED,
            effective_on=on,
            source=source,
            employer=back_employer,
            employee=back_employee,
            late_fee=back_fee,
            reason=why,
        )
    )
    # As for a reversed arrival: the fee runs again on the principal restored, also for the days
    # already fixed on the smaller principal since the offset.
    missed = restored_fee_posting(
        line,
        restored=back_employer + back_employee,
        since=offset.offset_on,
        on=on,
        source=source,
        reason=Reason("offset_principal_taken_back", offset=offset.pk),
        policy=policy,
    )
    line.employer_unpaid += back_employer
    line.employee_unpaid += back_employee
    line.fee_unpaid += back_fee
    if missed is not None:
        postings.append(missed)
        line.fee_unpaid += missed.late_fee
        line.fee_fixed_total += missed.late_fee
    return back_employer + back_employee + back_fee


def _cases_after_undo(
    cases: list[ArrearsCase],
    first_offset: dict[int, int],
    *,
    why: dict[int, Reason],
    on: date,
    actor: Actor,
) -> None:
    """What the money's absence does to each (locked) case: one that was settled and owes again
    reopens; an agreement the offsets' money fulfilled is in force again (or breached at once),
    or the case, reopened under a fulfilled agreement, is due again (as for a reversed arrival;
    found by the ledger state machine: the case was left under an agreement no longer in
    force)."""
    case_ids = [case.pk for case in cases]
    settled_owing = set(
        ArrearsCase.objects.filter(pk__in=case_ids, state=CaseState.SETTLED)
        .exclude(principal_unpaid=0, fee_unpaid=0)
        .values_list("pk", flat=True)
    )
    under_agreement = set(
        Agreement.objects.filter(case_id__in=case_ids)
        .exclude(state=AgreementState.DRAFT)
        .values_list("case_id", flat=True)
    )
    for case in cases:
        reason = why[first_offset[case.pk]]
        if case.pk in settled_owing:
            case_reopen_if_owing(case, reason=reason, actor=actor)
        if case.pk in under_agreement:
            agreement_after_reversal(
                case, arrival_ref=f"offset:{first_offset[case.pk]}", on=on, actor=actor, why=reason
            )


def case_reopen_if_owing(case: ArrearsCase, *, reason: Reason | str, actor: Actor) -> None:
    """A settled case that owes again reopens in the state it was settled from (overdue when
    the unit has another registered case by then: a unit has one registered case at most)."""
    case.refresh_from_db(fields=["principal_unpaid", "fee_unpaid", "state"])
    if case.state != CaseState.SETTLED or not (case.principal_unpaid or case.fee_unpaid):
        return
    settled_from = (
        AuditEntry.objects.filter(case_id=case.pk, subject="case", transition="settle")
        .order_by("-id")
        .values_list("from_state", flat=True)
        .first()
    )
    to_state = settled_from or CaseState.OVERDUE
    if to_state == CaseState.REGISTERED and unit_has_another_registered_case(case):
        to_state = CaseState.OVERDUE
    transition_apply(case, "reopen", actor=actor, reason=reason, to_state=to_state)
