"""The portal's one write of its own: a declared payment with its proof, in one transaction."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from kernel.actors import Actor, actor_label
from portal.models import PaymentProof
from replenish.models import Payment, PaymentVia
from replenish.services.payment import payment_record


def payment_declare(
    *,
    case_id: int,
    amount: Decimal,
    channel: str,
    paid_on: date,
    actor: Actor,
    reference: str = "",
    channel_ref: str = "",
    proof=None,
) -> Payment:
    """A unit declares a payment it made (`payment_record(via="portal")`, which checks that the
    actor acts for the case's unit) and keeps its proof with it."""
    with transaction.atomic():
        payment = payment_record(
            case_id=case_id,
            amount=amount,
            channel=channel,
            paid_on=paid_on,
            reference=reference,
            channel_ref=channel_ref,
            via=PaymentVia.PORTAL,
            actor=actor,
        )
        if proof is not None:
            PaymentProof.objects.create(payment=payment, file=proof, uploaded_by=actor_label(actor))
    return payment
