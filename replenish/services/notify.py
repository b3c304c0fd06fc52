"""The messages the collection workflow sends, created inside the transaction of the change they
report (`notices.notifications.notifications_create`), sent after it commits."""

from django.conf import settings
from django.utils import translation

from notices.messages import Kind
from notices.models import Department
from notices.notifications import Outgoing, notifications_create
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
