"""Twenty identical declarations sent at once (a unit's phone retrying, a double tap, a script)
make one payment: each thread has its own PostgreSQL connection, all released together."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from portal.models import PaymentProof
from portal.services import payment_declare
from replenish.models import AuditEntry, Payment, PaymentVia
from tests.replenish.services.test_collection_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_identical_declarations_at_once_make_one_payment(one, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    # given one form's declaration, sent twenty times at once
    def send():
        return payment_declare(
            case_id=one.case.pk,
            amount=D("300.00"),
            channel="bank",
            paid_on=timezone.localdate() - timedelta(days=1),
            reference=one.notice.number,
            proof=ContentFile(b"%PDF-1.4 proof", name="receipt.pdf"),
            declaration_key="form-1",
            actor=one.user,
        )

    # when
    outcomes = at_once(*[send] * 20)

    # then every sender got the same payment, and there is one, with one proof and one audit row
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    payment = Payment.objects.get(via=PaymentVia.PORTAL)
    assert {o.pk for o in outcomes} == {payment.pk}
    assert PaymentProof.objects.filter(payment=payment).count() == 1
    assert AuditEntry.objects.filter(subject="payment", subject_id=payment.pk).count() == 1
