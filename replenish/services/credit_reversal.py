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
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, actor_user
from replenish.models import (
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
from replenish.selectors import late_fee_policy, unit_has_another_registered_case
from replenish.services.agreement_reversal import agreement_after_reversal
from replenish.services.corrections import moved_by_corrections, still_on_line
from replenish.services.credit import (
    ZERO,
    offset_source,
    offsets_standing,
    unit_credit,
    unit_locked_for_credit,
)
from replenish.services.ledger import Posting, ledger_post, restored_fee_posting
from replenish.services.transitions import transition_apply


def credit_take_back(
    *, arrival: Arrival, case: ArrearsCase, amount: Decimal, on: date, reason: str, actor: Actor
) -> None:
    """Take back `amount`, the credit a reversed arrival left (its overpayment, and what
    corrections moved off the lines it paid): the rule is in the module docstring."""
    unit_id = case.unit_id
    short = amount - max(unit_credit(unit_id), ZERO)
    if short > 0:
        for offset in (
            CreditOffset.objects.select_for_update()
            .filter(unit_id=unit_id, reversed_amount__lt=F("amount"))
            .order_by("-pk")
        ):
            take = min(short, offset.amount - offset.reversed_amount)
            _offset_undo(offset, take, on=on, reason=reason, actor=actor)
            short -= take
            if short <= 0:
                break
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
        reason=reason,
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
    Returns the offsets taken back."""
    earliest = dict(
        Arrival.objects.filter(
            state=ArrivalState.MATCHED,
            arrived_on__lte=as_of,
            case__state__in=OFFSET_UNDO_STATES,
        )
        .filter(
            Exists(
                offsets_standing().filter(
                    case_id=OuterRef("case_id"), offset_on__gt=OuterRef("arrived_on")
                )
            )
        )
        .exclude(
            Exists(
                Arrival.objects.filter(
                    case_id=OuterRef("case_id"),
                    state=ArrivalState.POSTED,
                    arrived_on__gt=OuterRef("arrived_on"),
                )
            )
        )
        .values("case_id")
        .annotate(first=Min("arrived_on"))
        .values_list("case_id", "first")
        .order_by()
    )
    by_unit: dict[int, list[int]] = defaultdict(list)
    for case_id, unit_id in ArrearsCase.objects.filter(pk__in=list(earliest)).values_list(
        "pk", "unit_id"
    ):
        by_unit[unit_id].append(case_id)
    taken_back: list[int] = []
    for unit_id in sorted(by_unit):
        with transaction.atomic():
            unit_locked_for_credit(unit_id)
            for case_id in sorted(by_unit[unit_id]):
                first = earliest[case_id]
                for offset in (
                    offsets_standing()
                    .select_for_update()
                    .filter(case_id=case_id, offset_on__gt=first)
                    .order_by("-offset_on", "-pk")
                ):
                    _offset_undo(
                        offset,
                        offset.amount - offset.reversed_amount,
                        on=as_of,
                        reason=f"money that arrived on {first} is posted before it",
                        actor=actor,
                    )
                    taken_back.append(offset.pk)
    return taken_back


def _offset_undo(
    offset: CreditOffset, amount: Decimal, *, on: date, reason: str, actor: Actor
) -> None:
    """Undo `amount` of an offset: the last money it allocated first (within a line the employer
    portion, then the employee portion, then the late fee: the allocation order reversed)."""
    case = ArrearsCase.objects.select_for_update().get(pk=offset.case_id)
    source = offset_source(offset.pk)
    net: dict[int, list[Decimal]] = {}
    order: list[int] = []
    for line_id, employer, employee, late_fee in (
        # By its case too: the ledger has no index on `source` (a scan of the whole ledger per
        # offset, 7 ms at the small region, and a million rows at the full one).
        LedgerEntry.objects.filter(
            case_id=case.pk,
            source=source,
            kind__in=[LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED],
        )
        .order_by("pk")
        .values_list("line_id", "employer", "employee", "late_fee")
    ):
        if line_id not in net:
            net[line_id] = [ZERO, ZERO, ZERO]
            order.append(line_id)
        net[line_id][0] -= employer
        net[line_id][1] -= employee
        net[line_id][2] -= late_fee
    lines = {
        line.pk: line
        for line in ArrearsLine.objects.select_for_update().filter(pk__in=order).order_by("pk")
    }
    policy = late_fee_policy()
    postings: list[Posting] = []
    left = amount
    why = f"credit offset {offset.pk} taken back: {reason}"
    # What a correction moved off a line this offset paid is credit again already: not taken
    # back from the line a second time.
    moved = moved_by_corrections(offset=offset)
    for line_id in reversed(order):
        if left <= 0:
            break
        paid = net[line_id]
        employer, employee, late_fee = still_on_line(
            lines[line_id], (paid[0], paid[1], paid[2]), moved
        )
        back_employer = min(left, employer)
        left -= back_employer
        back_employee = min(left, employee)
        left -= back_employee
        back_fee = min(left, late_fee)
        left -= back_fee
        if not (back_employer or back_employee or back_fee):
            continue
        postings.append(
            Posting(
                case_id=case.pk,
                line_id=line_id,
                kind=LedgerKind.PAYMENT_REVERSED,
                effective_on=on,
                source=source,
                employer=back_employer,
                employee=back_employee,
                late_fee=back_fee,
                reason=why,
            )
        )
        # As for a reversed arrival: the fee runs again on the principal restored, also for the
        # days already fixed on the smaller principal since the offset.
        missed = restored_fee_posting(
            lines[line_id],
            restored=back_employer + back_employee,
            since=offset.offset_on,
            on=on,
            source=source,
            reason=f"the principal of credit offset {offset.pk} taken back",
            policy=policy,
        )
        if missed is not None:
            postings.append(missed)
    ledger_post(postings, actor=actor)
    taken = amount - left
    CreditOffset.objects.filter(pk=offset.pk).update(reversed_amount=F("reversed_amount") + taken)
    CreditEntry.objects.create(
        unit_id=offset.unit_id,
        case_id=case.pk,
        offset=offset,
        kind=CreditKind.OFFSET_REVERSED,
        amount=taken,
        effective_on=on,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        reason=why,
    )
    case_reopen_if_owing(case, reason=why, actor=actor)
    # As for a reversed arrival: an agreement the offset's money fulfilled is in force again (or
    # breached at once), or the case, reopened under a fulfilled agreement, is due again (found
    # by the ledger state machine: the case was left under an agreement no longer in force).
    agreement_after_reversal(case, arrival_ref=f"offset:{offset.pk}", on=on, actor=actor, why=why)


def case_reopen_if_owing(case: ArrearsCase, *, reason: str, actor: Actor) -> None:
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
