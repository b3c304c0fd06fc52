"""The messages the case workflow's announcements (`replenish.announcements`) become, created
inside the transaction of the change they report (`notices.outbox.notifications_create`),
sent after it commits."""

from django.conf import settings
from django.utils import translation

from notices.messages import Kind
from notices.models import Department
from notices.outbox import Outgoing, notifications_create
from replenish import announcements
from replenish.announcements import PaymentAccepted
from replenish.models import Payment


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


def listen_to_the_workflow() -> None:
    """Subscribe these messages to the workflow's announcements (once, at start-up)."""
    announcements.listen(PaymentAccepted, _payment_accepted)


def _payment_accepted(announcement: PaymentAccepted) -> None:
    finance_collect_request(payment_id=announcement.payment_id)
