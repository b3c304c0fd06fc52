"""The messages the case workflow's announcements (`replenish.announcements`) become, created
inside the transaction of the change they report (`notices.outbox.notifications_create`),
sent after it commits."""

from django.conf import settings
from django.utils import translation

from notices.messages import Kind
from notices.models import Channel, Department
from notices.outbox import Outgoing, notifications_create
from replenish import announcements
from replenish.announcements import PaymentAccepted, PaymentDeclared, PaymentRejected
from replenish.models import Payment, PaymentVia


def finance_collect_request(*, payment_id: int) -> None:
    """The collection department accepted a payment: tell the finance department to collect it
    (seed 003, step 3). One message per payment (dedupe key `collect:payment:<payment_id>`)."""
    payment = Payment.objects.select_related("case", "payer").get(pk=payment_id)
    with translation.override(settings.LANGUAGE_CODE):
        channel = str(payment.get_channel_display())
    notifications_create(
        [
            Outgoing(
                dedupe_key=f"collect:payment:{payment.pk}",
                kind=Kind.PAYMENT_COLLECT,
                channel="email",
                department=Department.FINANCE,
                case_id=payment.case_id,
                context={
                    "payment_id": str(payment.pk),
                    "case_no": payment.case.case_no,
                    "amount": str(payment.amount),
                    "payer_name": payment.payer.name,
                    "payer_uscc": payment.payer.uscc,
                    "channel": channel,
                    "paid_on": payment.paid_on.isoformat(),
                    "reference": payment.reference or payment.channel_ref or "-",
                },
            )
        ]
    )


def collection_accept_request(*, payment_id: int) -> None:
    """A unit declared a payment on the portal: tell the collection department to check its proof
    and accept it. One message per payment (dedupe key `declared:payment:<payment_id>`)."""
    payment = Payment.objects.select_related("case", "payer").get(pk=payment_id)
    with translation.override(settings.LANGUAGE_CODE):
        channel = str(payment.get_channel_display())
    overpayment = payment.expected_overpayment
    notifications_create(
        [
            Outgoing(
                dedupe_key=f"declared:payment:{payment.pk}",
                kind=Kind.PAYMENT_DECLARED,
                channel="email",
                department=Department.COLLECTION,
                case_id=payment.case_id,
                context={
                    "payment_id": str(payment.pk),
                    "case_no": payment.case.case_no,
                    "amount": str(payment.amount),
                    "payer_name": payment.payer.name,
                    "payer_uscc": payment.payer.uscc,
                    "channel": channel,
                    "paid_on": payment.paid_on.isoformat(),
                    "reference": payment.reference or payment.channel_ref or "-",
                    "owed": str(payment.owed_when_declared),
                    "overpayment": str(overpayment) if overpayment else "-",
                },
            )
        ]
    )


def unit_rejection_notice(*, payment_id: int, reason: str) -> None:
    """A payment the unit declared was not accepted: tell the unit why, in its portal inbox.
    Counter payments were recorded by staff, so nobody is told. One message per payment."""
    payment = Payment.objects.select_related("case__unit").get(pk=payment_id)
    if payment.via != PaymentVia.PORTAL:
        return
    unit = payment.case.unit
    notifications_create(
        [
            Outgoing(
                dedupe_key=f"rejected:payment:{payment.pk}",
                kind=Kind.PAYMENT_REJECTED,
                channel=Channel.PORTAL,
                unit_id=unit.pk,
                case_id=payment.case_id,
                context={
                    "payment_id": str(payment.pk),
                    "unit_name": unit.name,
                    "case_no": payment.case.case_no,
                    "amount": str(payment.amount),
                    "paid_on": payment.paid_on.isoformat(),
                    "reason": reason,
                    "agency_name": settings.AGENCY_NAME,
                    "agency_contact": settings.AGENCY_CONTACT,
                },
            )
        ]
    )


def listen_to_the_workflow() -> None:
    """Subscribe these messages to the workflow's announcements (once, at start-up)."""
    announcements.listen(PaymentAccepted, _payment_accepted)
    announcements.listen(PaymentDeclared, _payment_declared)
    announcements.listen(PaymentRejected, _payment_rejected)


def _payment_declared(announcement: PaymentDeclared) -> None:
    collection_accept_request(payment_id=announcement.payment_id)


def _payment_rejected(announcement: PaymentRejected) -> None:
    unit_rejection_notice(payment_id=announcement.payment_id, reason=announcement.reason)


def _payment_accepted(announcement: PaymentAccepted) -> None:
    finance_collect_request(payment_id=announcement.payment_id)
