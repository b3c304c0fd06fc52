"""The portal's one write of its own: a declared payment with its proof, in one transaction."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction

from kernel.actors import Actor, actor_label
from kernel.uploads import document_check, removed_on_failure, unguessable_name
from portal.forms import PROOF_TYPES
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
    declaration_key: str = "",
    overpayment_confirmed: bool = False,
) -> Payment:
    """A unit declares a payment it made (`payment_record(via="portal")`, which checks that the
    actor acts for the case's unit) and keeps its proof with it (checked before anything is
    stored: a PDF, JPEG or PNG by name and content, under a name nobody can guess).

    The same declaration sent again (the same `declaration_key`) returns the first one's payment
    and keeps its first proof."""
    if proof is not None:
        try:
            document_check(proof, extensions=PROOF_TYPES)
        except ValidationError as exc:
            raise ValidationError({"proof": exc.messages}) from None
        proof = File(proof, name=unguessable_name("p", proof.name).split("/", 1)[1])
    try:
        with transaction.atomic(), removed_on_failure() as stored:
            payment = payment_record(
                case_id=case_id,
                amount=amount,
                channel=channel,
                paid_on=paid_on,
                reference=reference,
                channel_ref=channel_ref,
                via=PaymentVia.PORTAL,
                actor=actor,
                declaration_key=declaration_key,
                overpayment_confirmed=overpayment_confirmed,
            )
            if proof is not None and not PaymentProof.objects.filter(payment=payment).exists():
                kept = PaymentProof(payment=payment, file=proof, uploaded_by=actor_label(actor))
                kept.save()
                stored.append(kept.file)
    except IntegrityError:
        # Two copies that passed the case lock at once (never seen with it): the constraint
        # `payment_declared_once` kept one; that one is the answer.
        sent_before = Payment.objects.filter(declaration_key=declaration_key, case_id=case_id)
        if not declaration_key or not sent_before.exists():
            raise
        payment = sent_before.get()
    return payment
