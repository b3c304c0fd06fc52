"""Arrivals (到账信息): money finance confirms has arrived.

An arrival comes from a payment finance confirms (`arrival_confirm`) or from an arrivals file
(`arrivals_import`). Matched to a case (automatically, or by finance from the unmatched queue with
`arrival_match`), it is posted to the case's ledger by the collection department's adjustment
(`arrivals_post`, on demand and in the daily run). An arrival later found wrong is reversed by new
entries (`arrival_reverse`), never deleted.

Lock order of the collection services: case, then its lines, then the payment, then the arrival
(each set in primary-key order), so concurrent services queue instead of deadlocking.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, actor_user, require_permission
from kernel.sql import models_update
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    CreditEntry,
    CreditKind,
    LedgerEntry,
    LedgerKind,
    MatchedBy,
    Payment,
    PaymentState,
)
from replenish.reasons import Reason, reason_fields
from replenish.selectors import (
    arrivals_posted_after,
    late_fee_policy,
    money_posted_after_each,
    offsets_standing_after,
    unit_has_another_registered_case,
)
from replenish.services.agreement_reversal import agreement_after_reversal
from replenish.services.arrival_allocation import (
    arrival_source,
    arrivals_plan,
    lines_reachable,
)
from replenish.services.corrections import moved_by_corrections, still_on_line
from replenish.services.credit_reversal import credit_take_back
from replenish.services.ledger import Posting, ledger_post, restored_fee_posting
from replenish.services.transitions import transition_apply, transition_apply_bulk
from units.models import Unit

ZERO = Decimal("0.00")


def _arrival_label(arrival: Arrival) -> str:
    return f"{arrival._meta.verbose_name} {arrival.arrival_ref}"


def _changed_meanwhile(arrival: Arrival) -> ValidationError:
    return ValidationError(
        _("%(arrival)s changed meanwhile; try again.") % {"arrival": _arrival_label(arrival)}
    )


# --- finance confirms or fails a payment ------------------------------------------------------


def arrival_confirm(
    *,
    payment_id: int,
    arrived_on: date,
    actor: Actor,
    arrival_ref: str = "",
    today: date | None = None,
) -> Arrival:
    """Finance confirms that an accepted payment's money arrived: the arrival (matched to the
    payment's case) waits for the adjustment to post it.

    `arrival_ref` is the bank's or tax bureau's reference of the money (default `payment-<id>`).
    When an arrivals file brought the same money first, that arrival is the one confirmed, so
    the money counts once whichever comes first.
    """
    require_permission(actor, "replenish.confirm_arrival", action=_("confirm an arrival"))
    today = today or timezone.localdate()
    if arrived_on > today:
        raise ValidationError(
            {"arrived_on": _("%(date)s is in the future.") % {"date": arrived_on}}
        )
    arrival_ref = arrival_ref.strip() or f"payment-{payment_id}"
    if len(arrival_ref) > 64:
        raise ValidationError({"arrival_ref": _("At most 64 characters.")})
    with transaction.atomic():
        case_id = Payment.objects.values_list("case_id", flat=True).get(pk=payment_id)
        case = ArrearsCase.objects.select_for_update().get(pk=case_id)
        payment = Payment.objects.select_for_update().select_related("payer").get(pk=payment_id)
        if payment.state != PaymentState.ACCEPTED:
            raise ValidationError(
                _("Payment %(payment)s is %(state)s: only an accepted payment can arrive.")
                % {"payment": payment.pk, "state": payment.get_state_display()}
            )
        if payment.paid_on > arrived_on:
            raise ValidationError(
                {"arrived_on": _("The money cannot arrive before it was paid (%(date)s).")
                 % {"date": payment.paid_on}}
            )  # fmt: skip
        existing = Arrival.objects.select_for_update().filter(arrival_ref=arrival_ref).first()
        if existing is not None:
            arrival: Arrival = _confirm_existing(existing, payment, case, actor=actor)
        else:
            arrival = _arrival_create(payment, case, arrival_ref, arrived_on, actor=actor)
        transition_apply(
            payment,
            "arrive",
            actor=actor,
            reason=Reason("arrival_of", arrival=arrival.arrival_ref, on=arrival.arrived_on),
            arrival_id=arrival.pk,
        )
    return arrival


def _arrival_create(
    payment: Payment, case: ArrearsCase, arrival_ref: str, arrived_on: date, *, actor: Actor
) -> Arrival:
    try:
        with transaction.atomic():
            arrival: Arrival = Arrival.objects.create(
                arrival_ref=arrival_ref,
                arrived_on=arrived_on,
                amount=payment.amount,
                payer_uscc=payment.payer.uscc,
                payer=payment.payer,
                reference=payment.reference,
                channel=payment.channel,
                case=case,
                matched_by=MatchedBy.PAYMENT,
                match_note=f"payment {payment.pk}",
            )
    except IntegrityError:
        raise ValidationError(
            _("Arrival %(ref)s was received meanwhile; confirm again to link the payment to it.")
            % {"ref": arrival_ref}
        ) from None
    transition_apply(
        arrival, "match", actor=actor, reason=Reason("confirms_payment", payment=payment.pk)
    )
    return arrival


def _confirm_existing(
    arrival: Arrival, payment: Payment, case: ArrearsCase, *, actor: Actor
) -> Arrival:
    if Payment.objects.filter(arrival=arrival).exists():
        raise ValidationError(
            _("%(arrival)s already confirms another payment.")
            % {"arrival": _arrival_label(arrival)}
        )
    if (arrival.amount, arrival.payer_uscc) != (payment.amount, payment.payer.uscc):
        raise ValidationError(
            _(
                "%(arrival)s is %(amount)s from %(payer)s, not this payment's %(p_amount)s from "
                "%(p_payer)s."
            )
            % {
                "arrival": _arrival_label(arrival),
                "amount": arrival.amount,
                "payer": arrival.payer_uscc,
                "p_amount": payment.amount,
                "p_payer": payment.payer.uscc,
            }
        )
    if arrival.state == ArrivalState.UNMATCHED:
        transition_apply(
            arrival,
            "match_by_hand",
            actor=actor,
            reason=Reason("confirms_payment", payment=payment.pk),
            case_id=case.pk,
            note=f"payment {payment.pk}",
        )
    elif arrival.state not in (ArrivalState.MATCHED, ArrivalState.POSTED) or (
        arrival.case_id != case.pk
    ):
        raise ValidationError(
            _("%(arrival)s is %(state)s for another case: it cannot confirm this payment.")
            % {"arrival": _arrival_label(arrival), "state": arrival.get_state_display()}
        )
    return arrival


def arrival_fail(*, payment_id: int, reason: str, actor: Actor) -> Payment:
    """Finance marks an accepted payment whose money never arrived as failed."""
    require_permission(actor, "replenish.confirm_arrival", action=_("mark a payment failed"))
    if not reason.strip():
        raise ValidationError(_("Say why the payment failed."))
    with transaction.atomic():
        case_id = Payment.objects.values_list("case_id", flat=True).get(pk=payment_id)
        ArrearsCase.objects.select_for_update().filter(pk=case_id).values_list("pk").get()
        payment: Payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.state != PaymentState.ACCEPTED:
            raise ValidationError(
                _("Payment %(payment)s is %(state)s: only an accepted payment can fail.")
                % {"payment": payment.pk, "state": payment.get_state_display()}
            )
        transition_apply(payment, "fail", actor=actor, reason=reason.strip())
    return payment


# --- finance resolves the unmatched queue -----------------------------------------------------


def arrival_match(*, arrival_id: int, case_id: int, actor: Actor, reason: str = "") -> Arrival:
    """Finance matches an unmatched arrival to the case it chose (or corrects the case of a
    matched arrival before it is posted)."""
    require_permission(actor, "replenish.match_arrival", action=_("match an arrival to a case"))
    with transaction.atomic():
        old_case_id = Arrival.objects.values_list("case_id", flat=True).get(pk=arrival_id)
        wanted = sorted({case_id} | ({old_case_id} if old_case_id else set()))
        locked = dict(
            ArrearsCase.objects.select_for_update()
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", "case_no")
        )
        if case_id not in locked:
            raise ValidationError({"case": _("There is no such case.")})
        arrival: Arrival = Arrival.objects.select_for_update().get(pk=arrival_id)
        if arrival.case_id != old_case_id:
            raise _changed_meanwhile(arrival)
        transition_apply(
            arrival,
            "match_by_hand",
            actor=actor,
            reason=reason.strip() or Reason("matched_by_hand", case=locked[case_id]),
            case_id=case_id,
            note=reason.strip(),
        )
    return arrival


# --- the adjustment: posting matched arrivals -------------------------------------------------


@dataclass(frozen=True)
class PostedArrival:
    arrival_id: int
    arrival_ref: str
    case_no: str
    arrived_on: date
    amount: Decimal
    applied: Decimal
    credit: Decimal
    settled: bool

    def __str__(self) -> str:
        figures = {
            "ref": self.arrival_ref,
            "on": self.arrived_on,
            "amount": self.amount,
            "case": self.case_no,
            "applied": self.applied,
            "credit": self.credit,
        }
        if self.settled:
            return (
                _(
                    "%(ref)s (%(on)s, %(amount)s) -> %(case)s: %(applied)s applied, %(credit)s "
                    "kept as credit, case settled"
                )
                % figures
            )
        return (
            _(
                "%(ref)s (%(on)s, %(amount)s) -> %(case)s: %(applied)s applied, %(credit)s kept "
                "as credit"
            )
            % figures
        )


def arrivals_post(
    *,
    actor: Actor,
    arrival_ids: Sequence[int] | None = None,
    as_of: date | None = None,
    batch_size: int | None = None,
) -> list[PostedArrival]:
    """Post matched arrivals (these, or all) that arrived on or before `as_of` to their cases'
    ledgers, in batches of one transaction each. Idempotent: a posted arrival is not matched any
    more, so posting again posts nothing.

    Each batch takes a fixed number of statements, whatever the number of arrivals and cases in
    it: locks (cases, lines, arrivals), one INSERT of ledger entries, one of credit entries,
    one UPDATE per cached figure set, bulk transitions of the arrivals and the settled cases.
    """
    require_permission(actor, "replenish.post_arrival", action=_("post arrivals to the ledger"))
    batch_size = batch_size or settings.BULK_BATCH_SIZE
    posted: list[PostedArrival] = []
    while True:
        later_arrival, later_offset = money_posted_after_each()
        # Not after money dated later (`arrivals_out_of_order`): NOT EXISTS, not NOT IN.
        pending = Arrival.objects.filter(state=ArrivalState.MATCHED).filter(
            ~later_arrival, ~later_offset
        )
        if arrival_ids is not None:
            pending = pending.filter(pk__in=list(arrival_ids))
        if as_of is not None:
            pending = pending.filter(arrived_on__lte=as_of)
        batch = list(
            pending.order_by("case_id", "arrived_on", "pk").values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not batch:
            return posted
        done = _post_batch(batch, actor=actor)
        if not done:
            # Another process took them meanwhile; what it left is picked up next time.
            return posted
        posted += done


def arrival_post(*, arrival_id: int, actor: Actor) -> PostedArrival | None:
    """Post one matched arrival now. None when it is already posted (nothing to do)."""
    require_permission(actor, "replenish.post_arrival", action=_("post arrivals to the ledger"))
    arrival = Arrival.objects.get(pk=arrival_id)
    if arrival.state in (ArrivalState.RECEIVED, ArrivalState.UNMATCHED, ArrivalState.REVERSED):
        raise ValidationError(
            _("%(arrival)s is %(state)s: only a matched arrival is posted.")
            % {"arrival": _arrival_label(arrival), "state": arrival.get_state_display()}
        )
    if arrival.state == ArrivalState.MATCHED:
        later: Arrival | None = (
            arrivals_posted_after(arrival.case_id, arrival.arrived_on)
            .select_related("case")
            .order_by("-arrived_on", "-pk")
            .first()
        )
        if later is not None:
            raise arrival_out_of_order(arrival, later)
        offset = (
            offsets_standing_after(arrival.case_id, arrival.arrived_on)
            .select_related("case")
            .order_by("-offset_on", "-pk")
            .first()
        )
        if offset is not None:
            raise ValidationError(
                _(
                    "%(arrival)s arrived on %(date)s, before the unit's credit was offset against "
                    "case %(case)s on %(offset_on)s: money is posted in the order it arrived. "
                    "Post it with the adjustment, which takes that offset back first and offsets "
                    "what credit is left again after it."
                )
                % {
                    "arrival": _arrival_label(arrival),
                    "date": arrival.arrived_on,
                    "case": offset.case.case_no,
                    "offset_on": offset.offset_on,
                },
                code="out_of_order",
            )
    posted = _post_batch([arrival_id], actor=actor)
    return posted[0] if posted else None


# --- posting in the order the money arrived (issue 13, rule 3) ---------------------------------


def arrival_out_of_order(arrival: Arrival, later: Arrival) -> ValidationError:
    return ValidationError(
        _(
            "%(arrival)s arrived on %(date)s, before %(later)s (%(later_date)s), already posted "
            "to case %(case)s: money is posted in the order it arrived, so that the late fee "
            "stays exact. Reverse the later arrival, post this one, then receive the reversed "
            "money again under a new reference and post it."
        )
        % {
            "arrival": _arrival_label(arrival),
            "date": arrival.arrived_on,
            "later": _arrival_label(later),
            "later_date": later.arrived_on,
            "case": later.case.case_no if later.case is not None else "",
        },
        code="out_of_order",
    )


def arrivals_out_of_order() -> QuerySet[Arrival]:
    """Matched arrivals that arrived before money already posted to their case: the adjustment
    leaves them matched (`arrival_post` says why and what to do)."""
    later_arrival, later_offset = money_posted_after_each()
    # The manager of a django-fsm-2 model is Any to mypy (see `selectors.arrivals_posted_after`).
    held: QuerySet[Arrival] = Arrival.objects.filter(state=ArrivalState.MATCHED).filter(
        later_arrival | later_offset
    )
    return held


def _in_date_order(arrivals: list[Arrival]) -> list[Arrival]:
    """The arrivals (locked) not dated before money already posted to their case."""
    held = set(
        arrivals_out_of_order().filter(pk__in=[a.pk for a in arrivals]).values_list("pk", flat=True)
    )
    return [a for a in arrivals if a.pk not in held]


def _post_batch(arrival_ids: list[int], *, actor: Actor) -> list[PostedArrival]:
    with transaction.atomic():
        case_ids = sorted(
            set(
                Arrival.objects.filter(pk__in=arrival_ids, state=ArrivalState.MATCHED).values_list(
                    "case_id", flat=True
                )
            )
        )
        if not case_ids:
            return []
        cases = {
            pk: (case_no, unit_id)
            for pk, case_no, unit_id in ArrearsCase.objects.select_for_update()
            .filter(pk__in=case_ids)
            .order_by("pk")
            .values_list("pk", "case_no", "unit_id")
        }
        # Only the lines the money can reach (rule 1 of issue 13: the others are not touched).
        lines = list(
            ArrearsLine.objects.select_for_update()
            .filter(pk__in=lines_reachable(arrival_ids), case_id__in=case_ids)
            .order_by("pk")
        )
        # Re-read under the lock: another process may have posted or re-matched some meanwhile.
        arrivals = list(
            Arrival.objects.select_for_update()
            .filter(pk__in=arrival_ids, state=ArrivalState.MATCHED, case_id__in=case_ids)
            .order_by("pk")
        )
        arrivals = _in_date_order(arrivals)
        if not arrivals:
            return []
        plan = arrivals_plan(lines, arrivals)
        ledger_post(plan.postings, actor=actor)
        if plan.moved_lines:
            models_update(plan.moved_lines, ["fee_accrues_after"])

        now = timezone.now()
        by_arrival = {p.arrival_id: p for p in plan.arrivals}
        CreditEntry.objects.bulk_create(
            CreditEntry(
                unit_id=cases[a.case_id][1],
                arrival_id=a.pk,
                case_id=a.case_id,
                kind=CreditKind.OVERPAYMENT,
                amount=by_arrival[a.pk].credit,
                effective_on=a.arrived_on,
                recorded_at=now,
                actor=actor_user(actor),
                actor_label=actor_label(actor),
                **reason_fields(
                    Reason("arrival_beyond_debt", arrival=a.arrival_ref, case=cases[a.case_id][0])
                ),
            )
            for a in arrivals
            if by_arrival[a.pk].credit > 0
        )
        for a in arrivals:
            a.applied_amount = by_arrival[a.pk].applied
            a.credit_amount = by_arrival[a.pk].credit
            a.posted_at = now
        # The amounts first: the database checks that a posted arrival's amounts add up.
        models_update(arrivals, ["applied_amount", "credit_amount", "posted_at"])
        transition_apply_bulk(
            Arrival.objects.filter(pk__in=[a.pk for a in arrivals]),
            "post",
            actor=actor,
            reason=Reason("arrival_posted"),
        )
        settled = set(
            transition_apply_bulk(
                ArrearsCase.objects.filter(pk__in=case_ids),
                "settle",
                actor=actor,
                reason=Reason("paid_in_full"),
                conditions=Q(principal_unpaid=0, fee_unpaid=0),
            )
        )
    arrivals_by_id = {a.pk: a for a in arrivals}
    # The case is settled by the last of its arrivals in the batch.
    last_of_case = {p.case_id: p.arrival_id for p in plan.arrivals}
    return [
        PostedArrival(
            arrival_id=p.arrival_id,
            arrival_ref=arrivals_by_id[p.arrival_id].arrival_ref,
            case_no=cases[p.case_id][0],
            arrived_on=arrivals_by_id[p.arrival_id].arrived_on,
            amount=arrivals_by_id[p.arrival_id].amount,
            applied=p.applied,
            credit=p.credit,
            settled=p.case_id in settled and last_of_case[p.case_id] == p.arrival_id,
        )
        for p in plan.arrivals
    ]


# --- reversal ---------------------------------------------------------------------------------


def arrival_reverse(
    *, arrival_id: int, reason: str, actor: Actor, on: date | None = None
) -> Arrival:
    """Finance reverses an arrival found wrong (it never arrived, was counted twice, …).

    Nothing is deleted: a posted arrival's payments are undone by `payment_reversed` entries, its
    credit by a negative credit entry, and the late fee its money had stopped is fixed again for
    the days since; a case it had settled is reopened in the state it was settled from (overdue
    instead of registered when the unit has another registered case by then). A payment it
    confirmed is marked failed.
    """
    require_permission(actor, "replenish.reverse_arrival", action=_("reverse an arrival"))
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the arrival is reversed."))
    on = on or timezone.localdate()
    with transaction.atomic():
        case_id = Arrival.objects.values_list("case_id", flat=True).get(pk=arrival_id)
        source = arrival_source(arrival_id)
        if case_id:
            # The unit first, as every use of its credit locks it (credit.py's lock order).
            unit_id = ArrearsCase.objects.values_list("unit_id", flat=True).get(pk=case_id)
            # (NO KEY UPDATE, as credit.py: a posting's credit entries take KEY SHARE on it.)
            Unit.objects.select_for_update(no_key=True).filter(pk=unit_id).values_list("pk").get()
        case = ArrearsCase.objects.select_for_update().get(pk=case_id) if case_id else None
        applied = list(
            LedgerEntry.objects.filter(
                case_id=case_id, source=source, kind=LedgerKind.PAYMENT_APPLIED
            )
            .order_by("pk")
            .values_list("line_id", "employer", "employee", "late_fee")
        )
        lines = {
            line.pk: line
            for line in ArrearsLine.objects.select_for_update()
            .filter(pk__in=sorted({row[0] for row in applied}))
            .order_by("pk")
        }
        payment = Payment.objects.select_for_update().filter(arrival_id=arrival_id).first()
        arrival: Arrival = Arrival.objects.select_for_update().get(pk=arrival_id)
        if arrival.case_id != case_id:
            raise _changed_meanwhile(arrival)
        was_posted = arrival.state == ArrivalState.POSTED
        if was_posted:
            if case is None:
                raise RuntimeError(f"posted arrival {arrival.arrival_ref} has no case")
            if case.state in (CaseState.WRITTEN_OFF, CaseState.TRANSFERRED):
                raise ValidationError(
                    _(
                        "Case %(case)s is %(state)s: the debt this money paid is closed, so the "
                        "money cannot be reversed. If it never arrived, have the core "
                        "contribution system send the amount again as arrears of the unit."
                    )
                    % {"case": case.case_no, "state": case.get_state_display()}
                )
            if on < arrival.arrived_on:
                raise ValidationError({"on": _("A reversal cannot be dated before the arrival.")})
        transition_apply(arrival, "reverse", actor=actor, reason=reason)
        if was_posted and case is not None:
            _posting_reverse(arrival, case, applied, lines, on=on, reason=reason, actor=actor)
        if payment is not None and payment.state == PaymentState.ARRIVED:
            transition_apply(
                payment,
                "fail",
                actor=actor,
                reason=Reason("arrival_reversed", arrival=arrival.arrival_ref),
            )
    return arrival


def _posting_reverse(
    arrival: Arrival,
    case: ArrearsCase,
    applied: list[tuple[Any, ...]],
    lines: dict[int, ArrearsLine],
    *,
    on: date,
    reason: str,
    actor: Actor,
) -> None:
    source = arrival_source(arrival.pk)
    why = Reason("arrival_reversed_because", arrival=arrival.arrival_ref, why=reason)
    restored_why = Reason("reversed_arrival_principal", arrival=arrival.arrival_ref)
    policy = late_fee_policy()
    postings = []
    # What a correction already took off a line this money paid is the unit's credit now: it
    # is taken back from there, and only the rest is restored to the line.
    moved = moved_by_corrections(arrival=arrival)
    corrected_credit = sum(moved.values(), ZERO)  # before `still_on_line` consumes `moved`
    applied = [
        (line_id, *(-part for part in still_on_line(lines[line_id], (-e, -ee, -fee), moved)))
        for line_id, e, ee, fee in applied
    ]
    for line_id, employer, employee, late_fee in applied:
        if not (employer or employee or late_fee):
            continue
        postings.append(
            Posting(
                case_id=case.pk,
                line_id=line_id,
                kind=LedgerKind.PAYMENT_REVERSED,
                effective_on=on,
                source=source,
                employer=-employer,
                employee=-employee,
                late_fee=-late_fee,
                reason=why,
            )
        )
        # The fee runs again on the principal this money had paid. Days up to the line's current
        # accrual start were fixed meanwhile on the smaller principal: fix them on the restored
        # part now (later days accrue on the whole principal as usual).
        missed = restored_fee_posting(
            lines[line_id],
            restored=-(employer + employee),
            since=arrival.arrived_on,
            on=on,
            source=source,
            reason=restored_why,
            policy=policy,
        )
        if missed is not None:
            postings.append(missed)
    ledger_post(postings, actor=actor)
    credit_left = arrival.credit_amount + corrected_credit
    if credit_left:
        # The credit may have been offset or refunded meanwhile (credit.py says the rule).
        credit_take_back(
            arrival=arrival, case=case, amount=credit_left, on=on, reason=why, actor=actor
        )
    case.refresh_from_db(fields=["principal_unpaid", "fee_unpaid"])
    if case.state == CaseState.SETTLED and (case.principal_unpaid or case.fee_unpaid):
        settled_from = (
            AuditEntry.objects.filter(case_id=case.pk, subject="case", transition="settle")
            .order_by("-id")
            .values_list("from_state", flat=True)
            .first()
        )
        to_state = settled_from or CaseState.OVERDUE
        if to_state == CaseState.REGISTERED and unit_has_another_registered_case(case):
            # New arrears of the unit opened another registered case meanwhile, and a unit has
            # one registered case at most: this one owes again as an overdue case (a notice can
            # be issued from there).
            to_state = CaseState.OVERDUE
            why = Reason("reopens_as_overdue", why=why)
        transition_apply(case, "reopen", actor=actor, reason=why, to_state=to_state)
    # The installments count as paid from the payments since signing, which the reversing
    # entries reduced: an agreement the money fulfilled is in force again (breached at once when
    # an installment is now unpaid past its grace days).
    agreement_after_reversal(case, arrival_ref=arrival.arrival_ref, on=on, actor=actor)
