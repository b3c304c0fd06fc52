"""Payments (workflow step 3): recorded at the counter or declared on the portal, accepted by the
collection department, which asks finance to collect. Finance's side is in `arrival.py`.

Lock order of the collection services: case, then its lines, then the payment, then the arrival.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, System, actor_user, require_permission
from kernel.money import FEN
from replenish.announcements import PaymentAccepted, PaymentDeclared, PaymentRejected, announce
from replenish.models import OPEN_STATES, ArrearsCase, Payment, PaymentChannel, PaymentVia
from replenish.reasons import Reason
from replenish.selectors import case_owed
from replenish.services.matching import reference_kinds, reference_names
from replenish.services.transitions import audit_record, transition_apply
from units.portal import membership_of


def money_checked(amount: Decimal, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, or a ValidationError naming the field."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationError({field: _("Enter an amount in yuan, e.g. 1000.00.")})
    if amount <= 0:
        raise ValidationError({field: _("The amount must be greater than 0.")})
    if amount != amount.quantize(FEN):
        raise ValidationError({field: _("The amount has more than 2 decimals.")})
    return amount.quantize(FEN)


def portal_may_declare(actor: Actor, unit_id: int) -> bool:
    """Whether a portal user acts for this unit: its portal membership is the unit's."""
    membership = membership_of(actor)
    return membership is not None and membership.unit_id == unit_id


def _require_recorder(actor: Actor, via: str, unit_id: int) -> None:
    if via == PaymentVia.COUNTER:
        require_permission(actor, "replenish.add_payment", action=_("record a payment"))
    elif not isinstance(actor, System) and not portal_may_declare(actor, unit_id):
        raise PermissionDenied(
            _("%(user)s may not declare a payment for this unit.") % {"user": actor.get_username()}
        )


# The checks of one payment, each a refusal of its own (C901 allowed here).
def payment_record(  # noqa: C901
    *,
    case_id: int,
    amount: Decimal,
    channel: str,
    paid_on: date,
    actor: Actor,
    via: str = PaymentVia.COUNTER,
    reference: str = "",
    channel_ref: str = "",
    today: date | None = None,
    declaration_key: str = "",
    overpayment_confirmed: bool = False,
) -> Payment:
    """Record a payment a unit made for its case: by staff at the counter (`via="counter"`, the
    collection department) or declared by the unit on the portal (`via="portal"`).

    A declaration checks what a counter clerk would: the number quoted is one of the case's
    notices or agreements (or none), and an amount above what the case owes today is taken only
    once the unit confirmed it (`overpayment_confirmed`); collection then sees it as an expected
    overpayment. `declaration_key` makes it idempotent: the same declaration sent again (a double
    tap, a retry, twenty at once) returns the payment the first one made. The case's row lock
    serialises them; the unique constraint `payment_declared_once` is the backstop."""
    if via not in PaymentVia.values:
        raise ValueError(f"via must be one of {PaymentVia.values}")
    today = today or timezone.localdate()
    amount = money_checked(amount)
    if channel not in PaymentChannel.values:
        raise ValidationError(
            {"channel": _("%(channel)s is not a payment channel.") % {"channel": channel}}
        )
    if paid_on > today:
        raise ValidationError({"paid_on": _("%(date)s is in the future.") % {"date": paid_on}})
    reference, channel_ref = reference.strip(), channel_ref.strip()
    if len(reference) > 64 or len(channel_ref) > 64:
        raise ValidationError(_("References are at most 64 characters."))
    declaration_key = declaration_key.strip()
    if len(declaration_key) > 64:
        raise ValidationError(_("The declaration key is at most 64 characters."))
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("unit", "obligor")
            .get(pk=case_id)
        )
        _require_recorder(actor, via, case.unit_id)
        if case.state not in OPEN_STATES:
            raise ValidationError(
                _("Case %(case)s is %(state)s: a payment is recorded only for an open case.")
                % {"case": case.case_no, "state": case.get_state_display()}
            )
        if declaration_key:
            sent_before: Payment | None = Payment.objects.filter(
                declaration_key=declaration_key
            ).first()
            if sent_before is not None:
                if sent_before.case_id != case.pk or sent_before.recorded_by != actor_user(actor):
                    raise ValidationError(
                        _("This declaration was already sent for another case; reload the form.")
                    )
                return sent_before
        if reference:
            _check_reference(reference, case)
        owed_when_declared = None
        if via == PaymentVia.PORTAL:
            if reference and not reference_kinds(reference):
                raise ValidationError(
                    {
                        "reference": _(
                            "%(reference)s is not a notice or agreement number of case "
                            "%(case)s; leave it empty if the payment quoted none."
                        )
                        % {"reference": reference, "case": case.case_no}
                    }
                )
            owed_when_declared = case_owed(case.pk, as_of=today).total
            if amount > owed_when_declared and not overpayment_confirmed:
                message = _(
                    "%(amount)s is more than the %(owed)s case %(case)s owes today. If you paid "
                    "that much, confirm it: what is beyond the debt is kept as your credit."
                ) % {"amount": amount, "owed": owed_when_declared, "case": case.case_no}
                raise ValidationError({"amount": ValidationError(message, code="overpayment")})
        payment: Payment = Payment.objects.create(
            case=case,
            # Who owes the case now pays it: a merging party or a successor that is itself a unit.
            payer_id=(
                case.obligor.unit_id if case.obligor and case.obligor.unit_id else case.unit_id
            ),
            amount=amount,
            channel=channel,
            paid_on=paid_on,
            reference=reference,
            channel_ref=channel_ref,
            via=via,
            recorded_by=actor_user(actor),
            declaration_key=declaration_key,
            owed_when_declared=owed_when_declared,
        )
        audit_record(
            payment,
            "record",
            actor=actor,
            reason=Reason("payment_recorded", via=via, amount=amount, channel=channel, on=paid_on),
        )
        if via == PaymentVia.PORTAL:
            announce(PaymentDeclared(payment_id=payment.pk))
    return payment


def _check_reference(reference: str, case: ArrearsCase) -> None:
    """A reference that looks like a notice (or agreement) number must be one of this case."""
    if not reference_kinds(reference):
        return
    named = reference_names(reference)
    if all(case_id != case.pk for _m, case_id, _p in named):
        raise ValidationError(
            {
                "reference": _("%(reference)s is not a reference of case %(case)s.")
                % {"reference": reference, "case": case.case_no}
            }
        )


def _locked_payment(payment_id: int) -> Payment:
    """Lock the payment's case, then the payment (the lock order of the collection services)."""
    case_id = Payment.objects.values_list("case_id", flat=True).get(pk=payment_id)
    ArrearsCase.objects.select_for_update().filter(pk=case_id).values_list("pk").get()
    payment: Payment = (
        Payment.objects.select_for_update().select_related("case", "payer").get(pk=payment_id)
    )
    return payment


def payment_accept(*, payment_id: int, actor: Actor) -> Payment:
    """The collection department accepts a payment and asks finance to collect it (after
    commit)."""
    require_permission(actor, "replenish.accept_payment", action=_("accept a payment"))
    with transaction.atomic():
        payment = _locked_payment(payment_id)
        transition_apply(payment, "accept", actor=actor)
        announce(PaymentAccepted(payment_id=payment.pk))
    return payment


def payment_reject(*, payment_id: int, reason: str, actor: Actor) -> Payment:
    """The collection department does not accept a payment (wrong case, declared twice, …)."""
    require_permission(actor, "replenish.accept_payment", action=_("reject a payment"))
    if not reason.strip():
        raise ValidationError(_("Say why the payment is not accepted."))
    with transaction.atomic():
        payment = _locked_payment(payment_id)
        transition_apply(payment, "reject", actor=actor, reason=reason.strip())
        announce(PaymentRejected(payment_id=payment.pk, reason=reason.strip()))
    return payment
