"""Two units with a history each (a case, a notice with its portal message, a signed agreement,
a declared payment, an arrival posted by finance) and a portal user of each."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.files.base import ContentFile

from notices.models import Notice, Notification
from notices.sending import notification_send
from notices.services import case_issue_notice
from replenish.models import Agreement, ArrearsCase, Arrival, CreditRefund
from replenish.services.agreements import (
    agreement_draft,
    agreement_scan_attach,
    agreement_sign,
)
from replenish.services.arrival import arrivals_post
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    accepted_payment,
    case_of,
    import_arrivals,
    import_rows,
    portal_user,
)
from units.samples import sample_uscc

ISSUED_ON = date(2026, 3, 2)


@dataclass
class UnitWorld:
    user: object
    case: ArrearsCase
    notice: Notice
    message: Notification
    agreement: Agreement
    arrival: Arrival
    payment: object
    refund: CreditRefund


def finance_posts(unit_no: int, refs: list[str], amount: str = "100.00") -> None:
    """Finance's side: the arrivals come in (matched to the unit's case) and are posted."""
    result = import_arrivals(
        [ArrivalRowFactory(unit_no=unit_no, arrival_ref=ref, amount=amount) for ref in refs]
    )
    assert result.matched == len(refs)
    arrivals_post(actor=SYSTEM)


def unit_history(unit_no: int, *, persons: int = 1, arrivals: int = 1) -> UnitWorld:
    """Unit `unit_no` owes 1,000.00 a person for 2025-12 (due 2026-01-15), was notified on
    2 March 2026, paid 100.00 per arrival (posted), declared nothing; its agreement is signed."""
    import_rows(
        [ArrearsRowFactory(unit_no=unit_no, person_no=unit_no * 100 + n) for n in range(persons)]
    )
    case = case_of(sample_uscc(unit_no))
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=ISSUED_ON)
    for message in Notification.objects.filter(notice=notice, channel="portal"):
        notification_send(notification_id=message.pk)  # the worker puts it in the inbox
    if arrivals:
        finance_posts(unit_no, [f"BANK-{unit_no}-{n}" for n in range(arrivals)])
    payment = accepted_payment(case, "50.00", channel="bank")
    draft = agreement_draft(
        case_id=case.pk, installment_count=3, actor=SYSTEM, drafted_on=date(2026, 3, 10)
    )
    agreement = agreement_sign(
        agreement_id=draft.pk, actor=SYSTEM, signed_on=date(2026, 3, 10), signatory="张三"
    )
    agreement = agreement_scan_attach(
        agreement_id=agreement.pk,
        file=ContentFile(b"%PDF-1.4 signed scan", name="signed.pdf"),
        actor=SYSTEM,
    )
    user = portal_user(f"unit{unit_no}", unit=case.unit)
    # A refund application of the unit (as if it had had credit): the portal's pages and their
    # isolation see one; written directly, as the unit has no credit here.
    refund = CreditRefund.objects.create(
        refund_no=f"R2026-{unit_no:06d}", unit=case.unit, amount="10.00",
        account_name=case.unit.name, account_bank="工商银行", account_no="6222", applied_by="t",
    )  # fmt: skip
    return UnitWorld(
        user=user,
        case=ArrearsCase.objects.get(pk=case.pk),
        notice=Notice.objects.get(pk=notice.pk),
        message=Notification.objects.filter(notice=notice, channel="portal").first(),
        agreement=agreement,
        arrival=Arrival.objects.filter(case=case).order_by("pk").first(),
        payment=payment,
        refund=refund,
    )


@pytest.fixture
def one(db):
    return unit_history(1)


@pytest.fixture
def two(db):
    return unit_history(2)
