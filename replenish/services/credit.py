"""A unit's overpayment credit, used: offset against its open arrears, or refunded.

*Offset.* The unit's credit pays the lines of its open cases by the rules of an arrival (the
late fee fixed through the offset date first, then lines oldest due first; within a line late
fee, employee portion, employer portion). Each case paid gets a `CreditOffset` row, ledger entries
`payment_applied` with the source `offset:<pk>` and one negative credit entry. The adjustment
offsets automatically when `CREDIT_OFFSET_AUTOMATIC` is on (the default); a collection clerk can
offset a unit's credit at any time.

*Refund.* The unit (portal) or collection for it applies with the account to pay into; finance
approves (two different approvers above `CREDIT_REFUND_SECOND_APPROVAL_ABOVE`) and records the
payment out. The credit is taken at the (last) approval, by a negative credit entry written under
the unit's row lock: two approvals at once queue on that lock, the second sees the balance the
first left, and the database refuses a balance below zero (migration 0005) if anything got past.

Lock order: the unit, then its cases (by pk), then their lines, then the refund.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, System, actor_label, actor_user, require_permission
from kernel.money import LineDue, allocate_payment
from kernel.sql import models_update
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    CreditEntry,
    CreditKind,
    CreditOffset,
    CreditRefund,
    LedgerKind,
    RefundState,
)
from replenish.models.cases import WRITEOFF_RETURN_STATES
from replenish.reasons import Reason, reason_fields
from replenish.services.ledger import Posting, ledger_post, lines_fee_plan
from replenish.services.numbering import number_block_take
from replenish.services.payment import money_checked, portal_may_declare
from replenish.services.transitions import audit_record, transition_apply, transition_apply_bulk
from units.models import Unit

ZERO = Decimal("0.00")
# The open cases credit pays. Not a case whose write-off is under examination: the application
# states what is to be written off, and the examination decides on that.
OFFSET_STATES = WRITEOFF_RETURN_STATES


def offset_source(offset_id: int) -> str:
    return f"offset:{offset_id}"


def unit_credit(unit_id: int) -> Decimal:
    """The unit's credit balance: the sum of its credit entries."""
    total = CreditEntry.objects.filter(unit_id=unit_id).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def unit_credit_pending(unit_id: int) -> Decimal:
    """What the unit's refund applications not yet approved ask for."""
    total = CreditRefund.objects.filter(
        unit_id=unit_id, state__in=[RefundState.APPLIED, RefundState.FIRST_APPROVED]
    ).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def unit_locked_for_credit(unit_id: int) -> Unit:
    # NO KEY UPDATE: the uses of a unit's credit queue on it, while an arrival posting (which
    # locks cases, then inserts credit entries whose foreign key takes KEY SHARE on the unit)
    # is not blocked by it — a plain FOR UPDATE made the two deadlock.
    unit: Unit = Unit.objects.select_for_update(no_key=True).get(pk=unit_id)
    return unit


def units_locked_for_credit(unit_ids: Iterable[int]) -> None:
    """`unit_locked_for_credit` for many units, in one statement and in key order."""
    list(
        Unit.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(unit_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- offset ------------------------------------------------------------------------------------


def credit_offset(
    *, unit_id: int, actor: Actor, on: date | None = None, automatic: bool = False
) -> list[CreditOffset]:
    """Offset the unit's credit (what refund applications ask for is kept back) against its
    open arrears. Returns the offsets made (none when there is no credit or nothing owed)."""
    require_permission(actor, "replenish.offset_credit", action=_("offset a unit's credit"))
    on = on or timezone.localdate()
    with transaction.atomic():
        unit_locked_for_credit(unit_id)
        available = unit_credit(unit_id) - unit_credit_pending(unit_id)
        if available <= 0:
            return []
        cases = {
            c.pk: c
            for c in ArrearsCase.objects.select_for_update()
            .filter(unit_id=unit_id, state__in=OFFSET_STATES)
            .order_by("pk")
        }
        lines = list(
            ArrearsLine.objects.select_for_update()
            .filter(case_id__in=list(cases))
            .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
            .order_by("pk")
        )
        if not lines:
            return []
        # The fee to `on` decides what the credit pays on each line; it is fixed only on the
        # lines the credit reaches (issue 13 rule 1), the others keep accruing from where they were.
        # One reason for all the entries of a kind: ledger_post makes its columns once.
        fee_reason, paid_reason = (
            Reason("credit_offset", on=on),
            Reason("unit_credit_offset", on=on),
        )
        fee_postings = lines_fee_plan(lines, on=on, source="offset:pending", reason=fee_reason)
        dues = sorted(
            (
                LineDue(
                    line_id=line.pk,
                    due_date=line.due_date,
                    late_fee=line.fee_unpaid,
                    employee=line.employee_unpaid,
                    employer=line.employer_unpaid,
                )
                for line in lines
                if line.employer_unpaid or line.employee_unpaid or line.fee_unpaid
            ),
            key=lambda d: (d.due_date, d.line_id),
        )
        allocation = allocate_payment(available, dues)
        if allocation.applied <= 0:
            return []
        line_case = {line.pk: line.case_id for line in lines}
        reached = {paid.line_id for paid in allocation.lines if paid.total > 0}
        by_case: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for paid in allocation.lines:
            by_case[line_case[paid.line_id]] += paid.total
        offsets = {
            case_id: CreditOffset.objects.create(
                unit_id=unit_id,
                case_id=case_id,
                amount=amount,
                offset_on=on,
                automatic=automatic,
                actor_label=actor_label(actor),
            )
            for case_id, amount in sorted(by_case.items())
        }
        postings = [
            Posting(
                case_id=p.case_id,
                line_id=p.line_id,
                kind=p.kind,
                effective_on=on,
                source=offset_source(offsets[p.case_id].pk),
                late_fee=p.late_fee,
                reason=fee_reason,
            )
            for p in fee_postings
            if p.line_id in reached
        ]
        for paid in allocation.lines:
            offset = offsets[line_case[paid.line_id]]
            postings.append(
                Posting(
                    case_id=offset.case_id,
                    line_id=paid.line_id,
                    kind=LedgerKind.PAYMENT_APPLIED,
                    effective_on=on,
                    source=offset_source(offset.pk),
                    employer=-paid.employer,
                    employee=-paid.employee,
                    late_fee=-paid.late_fee,
                    reason=paid_reason,
                )
            )
        ledger_post(postings, actor=actor)
        # Only the lines reached had their fee fixed: only theirs accrues from `on` now.
        moved = [line for line in lines if line.pk in reached]
        models_update(moved, ["fee_accrues_after"])
        CreditEntry.objects.bulk_create(
            CreditEntry(
                unit_id=unit_id,
                case_id=offset.case_id,
                offset=offset,
                kind=CreditKind.OFFSET,
                amount=-offset.amount,
                effective_on=on,
                actor=actor_user(actor),
                actor_label=actor_label(actor),
                **reason_fields(Reason("offset_against_case", case=cases[offset.case_id].case_no)),
            )
            for offset in offsets.values()
        )
        transition_apply_bulk(
            ArrearsCase.objects.filter(pk__in=list(offsets)),
            "settle",
            actor=actor,
            reason=Reason("credit_paid_everything"),
            conditions=Q(principal_unpaid=0, fee_unpaid=0),
        )
    return list(offsets.values())


def credits_offset(*, actor: Actor, on: date | None = None) -> list[CreditOffset]:
    """The adjustment's offset: every unit with credit and an open case that owes something."""
    require_permission(actor, "replenish.offset_credit", action=_("offset a unit's credit"))
    # The few units with credit first, then those of them with a case that owes: the other way
    # round, the database reads every open case of the region each day (184 ms at the full
    # region, for no unit with credit).
    with_credit = (
        CreditEntry.objects.values("unit_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .values("unit_id")
    )
    unit_ids = (
        ArrearsCase.objects.filter(state__in=OFFSET_STATES, unit_id__in=with_credit)
        .filter(Q(principal_unpaid__gt=0) | Q(fee_unpaid__gt=0))
        .order_by("unit_id")
        .values_list("unit_id", flat=True)
        .distinct()
    )
    done: list[CreditOffset] = []
    for unit_id in list(unit_ids):
        done += credit_offset(unit_id=unit_id, actor=actor, on=on, automatic=True)
    return done


# --- refund ------------------------------------------------------------------------------------


def refund_number(year: int, sequence: int) -> str:
    return f"R{year}-{sequence:06d}"


def _may_act_for(actor: Actor, unit_id: int, action: str) -> None:
    """A refund application is the unit's (its portal user) or collection's for it."""
    if isinstance(actor, System) or portal_may_declare(actor, unit_id):
        return
    require_permission(actor, "replenish.add_creditrefund", action=action)


def refund_apply(
    *,
    unit_id: int,
    amount: Decimal,
    account_name: str,
    account_bank: str,
    account_no: str,
    actor: Actor,
    note: str = "",
) -> CreditRefund:
    """The unit applies to have (part of) its credit paid back into an account."""
    _may_act_for(actor, unit_id, _("apply for a refund"))
    amount = money_checked(amount)
    fields = {
        "account_name": (account_name.strip(), 100),
        "account_bank": (account_bank.strip(), 100),
        "account_no": (account_no.strip().replace(" ", ""), 40),
    }
    errors = {}
    for name, (value, longest) in fields.items():
        if not value:
            errors[name] = _("Say which account the refund is paid into.")
        elif len(value) > longest:
            errors[name] = _("At most %(n)d characters.") % {"n": longest}
    if fields["account_no"][0] and not fields["account_no"][0].isdigit():
        errors["account_no"] = _("An account number has digits only.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        unit_locked_for_credit(unit_id)
        available = unit_credit(unit_id) - unit_credit_pending(unit_id)
        if amount > available:
            raise ValidationError(
                {
                    "amount": _(
                        "%(amount)s is more than the %(available)s of credit that can be refunded."
                    )
                    % {"amount": amount, "available": max(available, ZERO)}
                }
            )
        today = timezone.localdate()
        refund: CreditRefund = CreditRefund.objects.create(
            refund_no=refund_number(today.year, number_block_take(scope=f"refund:{today.year}")),
            unit_id=unit_id,
            amount=amount,
            account_name=fields["account_name"][0],
            account_bank=fields["account_bank"][0],
            account_no=fields["account_no"][0],
            note=note.strip()[:500],
            applied_by=actor_label(actor),
        )
        audit_record(
            refund,
            "apply",
            actor=actor,
            reason=Reason("refund_applied", amount=amount, account=refund.account_no),
        )
    return refund


def _refund_locked(refund_id: int) -> CreditRefund:
    unit_id = CreditRefund.objects.values_list("unit_id", flat=True).get(pk=refund_id)
    unit_locked_for_credit(unit_id)
    refund: CreditRefund = CreditRefund.objects.select_for_update().get(pk=refund_id)
    return refund


def refund_approve(*, refund_id: int, actor: Actor) -> CreditRefund:
    """Finance approves a refund: at most the threshold with one approval, above it with two
    by different people. The last approval takes the credit."""
    require_permission(actor, "replenish.approve_refund", action=_("approve a refund"))
    with transaction.atomic():
        refund = _refund_locked(refund_id)
        user = actor_user(actor)
        needs_two = refund.amount > settings.CREDIT_REFUND_SECOND_APPROVAL_ABOVE
        if refund.state == RefundState.FIRST_APPROVED and (
            user is not None and refund.first_approver_id == user.pk
        ):
            raise PermissionDenied(
                _("%(user)s approved refund %(refund)s once already: a second approver must.")
                % {"user": actor_label(actor), "refund": refund.refund_no}
            )
        if needs_two and refund.state == RefundState.APPLIED:
            transition_apply(refund, "approve_first", actor=actor, by=user)
            return refund
        balance = unit_credit(refund.unit_id)
        if refund.amount > balance:
            raise ValidationError(
                _(
                    "Refund %(refund)s asks for %(amount)s, but the unit's credit is %(balance)s "
                    "now: it cannot be approved."
                )
                % {"refund": refund.refund_no, "amount": refund.amount, "balance": balance}
            )
        transition_apply(refund, "approve", actor=actor, by=user)
        CreditEntry.objects.create(
            unit_id=refund.unit_id,
            refund=refund,
            kind=CreditKind.REFUND,
            amount=-refund.amount,
            effective_on=timezone.localdate(),
            actor=user,
            actor_label=actor_label(actor),
            **reason_fields(
                Reason(
                    "refund_paid_to",
                    refund=refund.refund_no,
                    bank=refund.account_bank,
                    account=refund.account_no,
                )
            ),
        )
    return refund


def refund_reject(*, refund_id: int, reason: str, actor: Actor) -> CreditRefund:
    require_permission(actor, "replenish.approve_refund", action=_("reject a refund"))
    if not reason.strip():
        raise ValidationError(_("Say why the refund is not approved."))
    with transaction.atomic():
        refund = _refund_locked(refund_id)
        transition_apply(refund, "reject", actor=actor, reason=reason.strip())
    return refund


def refund_withdraw(*, refund_id: int, actor: Actor, reason: str = "") -> CreditRefund:
    """The unit, or collection for it, withdraws an application not yet approved."""
    unit_id = CreditRefund.objects.values_list("unit_id", flat=True).get(pk=refund_id)
    _may_act_for(actor, unit_id, _("withdraw a refund application"))
    with transaction.atomic():
        refund = _refund_locked(refund_id)
        transition_apply(refund, "withdraw", actor=actor, reason=reason.strip())
    return refund


def refund_pay(
    *, refund_id: int, paid_on: date, payout_ref: str, actor: Actor, today: date | None = None
) -> CreditRefund:
    """Finance records the approved refund paid out into the unit's account."""
    require_permission(actor, "replenish.pay_refund", action=_("record a refund paid"))
    today = today or timezone.localdate()
    payout_ref = payout_ref.strip()
    if paid_on > today:
        raise ValidationError({"paid_on": _("%(date)s is in the future.") % {"date": paid_on}})
    if not payout_ref or len(payout_ref) > 64:
        raise ValidationError(
            {"payout_ref": _("Give the bank's reference of the payment out (at most 64).")}
        )
    with transaction.atomic():
        refund = _refund_locked(refund_id)
        if refund.state == RefundState.PAID and refund.payout_ref == payout_ref:
            return refund  # the same record sent again
        transition_apply(
            refund,
            "pay",
            actor=actor,
            reason=Reason("refund_paid_out", on=paid_on, payout=payout_ref),
            paid_on=paid_on,
            payout_ref=payout_ref,
        )
    return refund
