"""Finance's hand work on arrivals: resolving the unmatched queue (`arrival_match`) and reversing
an arrival found wrong (`arrival_reverse`) by new entries, never by deleting."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from notices.services import case_issue_notice
from replenish.departments import AUDIT, FINANCE
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
    PaymentState,
)
from replenish.selectors import case_owed
from replenish.services.arrival import (
    arrival_confirm,
    arrival_match,
    arrival_reverse,
    arrivals_post,
)
from replenish.services.ledger import ledger_differences
from replenish.services.transitions import transition_apply
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    accepted_payment,
    case_of,
    department_user,
    import_arrivals,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """Unit 1 owes one line of 800.00 employer + 200.00 employee, due 2026-01-15."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return case_of(sample_uscc(1))


@pytest.fixture
def cashier():
    return department_user(FINANCE, "cashier")


def arrive(ref: str, amount: str, on: str, unit_no: int = 1) -> Arrival:
    import_arrivals(
        [ArrivalRowFactory(arrival_ref=ref, amount=amount, arrived_on=on, unit_no=unit_no)],
        today=date(2026, 3, 31),
    )
    return Arrival.objects.get(arrival_ref=ref)


def case_figures(case_id: int) -> tuple:
    return ArrearsCase.objects.values_list(
        "state", "principal_unpaid", "fee_unpaid", "paid_total"
    ).get(pk=case_id)


# --- the unmatched queue ----------------------------------------------------------------------


def test_finance_resolves_an_unmatched_arrival_by_choosing_the_case(case, cashier):
    # given money from a payer the system does not know (a parent company paying for unit 1)
    arrival = arrive("PARENT-1", "300.00", "2026-03-01", unit_no=9)
    assert arrival.state == ArrivalState.UNMATCHED

    # when finance matches it to unit 1's case
    arrival_match(
        arrival_id=arrival.pk, case_id=case.pk, actor=cashier, reason="parent pays for unit 1"
    )

    # then it is matched by hand, the audit row belongs to the case now, and the adjustment
    # posts it
    arrival.refresh_from_db()
    assert (arrival.state, arrival.case_id, arrival.matched_by, arrival.match_note) == (
        ArrivalState.MATCHED,
        case.pk,
        "hand",
        "parent pays for unit 1",
    )
    assert list(
        AuditEntry.objects.filter(subject="arrival", subject_id=arrival.pk)
        .order_by("id")
        .values_list("case_id", "transition", "from_state", "to_state", "actor_label", "reason")
    ) == [
        (None, "queue", "received", "unmatched", "system:tests",
         "arrivals file arrivals.csv: no case found"),
        (case.pk, "match_by_hand", "unmatched", "matched", "cashier", "parent pays for unit 1"),
    ]  # fmt: skip
    [posted] = arrivals_post(actor=SYSTEM)
    assert (posted.case_no, posted.applied) == ("AC2026-0000001", D("300.00"))


def test_a_match_can_be_corrected_before_posting_but_not_after(case, cashier):
    # given unit 2's case and an arrival matched automatically to unit 1's
    import_rows([ArrearsRowFactory(unit_no=2, person_no=2)])
    other = case_of(sample_uscc(2))
    arrival = arrive("A1", "100.00", "2026-03-01")

    # when finance moves it to unit 2's case
    arrival_match(arrival_id=arrival.pk, case_id=other.pk, actor=cashier)

    # then
    assert Arrival.objects.get(pk=arrival.pk).case_id == other.pk
    assert AuditEntry.objects.filter(subject="arrival").last().reason == (
        "matched by hand to AC2026-0000002"
    )

    # and once posted it can only be reversed
    arrivals_post(actor=SYSTEM)
    with pytest.raises(ValidationError) as refused:
        arrival_match(arrival_id=arrival.pk, case_id=case.pk, actor=cashier)
    assert refused.value.messages == [
        "arrival A1 is posted to the ledger: match by hand is not possible from that state."
    ]


def test_audit_may_not_match_an_arrival(case):
    arrival = arrive("X", "1.00", "2026-03-01", unit_no=9)
    with pytest.raises(PermissionDenied, match="inspector may not match an arrival to a case"):
        arrival_match(
            arrival_id=arrival.pk, case_id=case.pk, actor=department_user(AUDIT, "inspector")
        )
    assert Arrival.objects.get().state == ArrivalState.UNMATCHED


# --- reversal ---------------------------------------------------------------------------------


def test_a_posted_arrival_is_reversed_by_new_entries_and_the_settled_case_reopens(case, cashier):
    # given 500.00 of 2026-03-01 and 600.00 of 2026-03-11 posted: the case was settled with
    # 74.89 of credit (see test_arrivals_post)
    first = arrive("A1", "500.00", "2026-03-01")
    arrivals_post(actor=SYSTEM)
    second = arrive("A2", "600.00", "2026-03-11")
    arrivals_post(actor=SYSTEM)
    assert case_figures(case.pk) == (CaseState.SETTLED, 0, 0, D("1025.11"))
    entries_before = LedgerEntry.objects.count()

    # when finance finds the first arrival was never real and reverses it on 2026-03-20
    arrival_reverse(
        arrival_id=first.pk, reason="bank recalled it", actor=cashier, on=date(2026, 3, 20)
    )

    # then nothing was deleted; the payments are undone by positive entries, and the fee the
    # money had stopped runs again: 10 days on 477.50 between the two arrivals (2.3875 -> 2.39)
    source = f"arrival:{first.pk}"
    new = list(
        LedgerEntry.objects.order_by("id")[entries_before:].values_list(
            "kind", "late_fee", "employee", "employer", "effective_on", "source"
        )
    )
    on = date(2026, 3, 20)
    assert new == [
        (LedgerKind.PAYMENT_REVERSED, D("22.50"), D("200.00"), D("277.50"), on, source),
        (LedgerKind.LATE_FEE_FIXED, D("2.39"), D("0.00"), D("0.00"), on, source),
    ]
    assert case_figures(case.pk) == (CaseState.REGISTERED, D("477.50"), D("24.89"), D("525.11"))
    assert Arrival.objects.get(pk=first.pk).state == ArrivalState.REVERSED
    assert list(
        AuditEntry.objects.filter(subject="case", transition="reopen").values_list(
            "from_state", "to_state", "actor_label", "reason"
        )
    ) == [("settled", "registered", "cashier", "arrival A1 reversed: bank recalled it")]
    # the fee from the second arrival on runs on the restored principal
    line = ArrearsLine.objects.get()
    assert line.fee_accrues_after == date(2026, 3, 11)
    assert case_owed(case.pk, as_of=date(2026, 3, 21)).late_fee == D("27.28")
    # the second arrival's credit stays (it is money that did arrive)
    assert list(CreditEntry.objects.values_list("arrival_id", "kind", "amount")) == [
        (second.pk, CreditKind.OVERPAYMENT, D("74.89"))
    ]
    assert ledger_differences() == []


def test_reversing_an_overpayment_takes_its_credit_back(case, cashier):
    # given the case was notified, then paid with 100.00 too much
    case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
    arrival = arrive("A1", "1122.50", "2026-03-01")
    arrivals_post(actor=SYSTEM)
    assert case_figures(case.pk)[0] == CaseState.SETTLED

    # when it is reversed
    arrival_reverse(arrival_id=arrival.pk, reason="counted twice", actor=cashier, on=IMPORT_DAY)

    # then the credit is taken back by a new entry, and the case is notified again as it was
    assert list(CreditEntry.objects.order_by("id").values_list("kind", "amount")) == [
        (CreditKind.OVERPAYMENT, D("100.00")),
        (CreditKind.REVERSED, D("-100.00")),
    ]
    assert case_figures(case.pk) == (CaseState.NOTIFIED, D("1000.00"), D("22.50"), 0)
    assert ledger_differences() == []

    # and a reversed arrival cannot be reversed again
    with pytest.raises(ValidationError, match="reverse is not possible from that state"):
        arrival_reverse(arrival_id=arrival.pk, reason="again", actor=cashier)
    assert CreditEntry.objects.count() == 2


def test_reversing_an_arrival_not_yet_posted_writes_no_ledger_entry(case, cashier):
    # given a matched and an unmatched arrival
    matched = arrive("A1", "100.00", "2026-03-01")
    unmatched = arrive("A2", "100.00", "2026-03-01", unit_no=9)
    entries = LedgerEntry.objects.count()

    # when both are reversed
    for arrival in (matched, unmatched):
        arrival_reverse(arrival_id=arrival.pk, reason="wrong file", actor=cashier)

    # then they are reversed (kept, never deleted), the adjustment skips them, and the ledger is
    # as it was
    assert set(Arrival.objects.values_list("state", flat=True)) == {ArrivalState.REVERSED}
    assert arrivals_post(actor=SYSTEM) == []
    assert LedgerEntry.objects.count() == entries


def test_the_payment_an_arrival_confirmed_fails_with_it(case, cashier):
    # given a payment confirmed and posted
    payment = accepted_payment(case, "300.00")
    arrival = arrival_confirm(
        payment_id=payment.pk, arrived_on=IMPORT_DAY, actor=cashier, today=IMPORT_DAY
    )
    arrivals_post(actor=SYSTEM)

    # when the arrival is reversed
    arrival_reverse(arrival_id=arrival.pk, reason="cheque bounced", actor=cashier, on=IMPORT_DAY)

    # then
    payment.refresh_from_db()
    assert payment.state == PaymentState.FAILED
    assert AuditEntry.objects.filter(subject="payment", subject_id=payment.pk).last().reason == (
        f"arrival payment-{payment.pk} reversed"
    )
    assert case_figures(case.pk)[1:] == (D("1000.00"), D("22.50"), 0)


def test_money_posted_to_a_written_off_case_is_not_reversed(case, cashier):
    # given a partly paid case that was then written off
    arrival = arrive("A1", "100.00", "2026-03-01")
    arrivals_post(actor=SYSTEM)
    with transaction.atomic():
        locked = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        transition_apply(locked, "writeoff_submit", actor=SYSTEM)
        transition_apply(locked, "writeoff_approve", actor=SYSTEM)

    # when / then
    with pytest.raises(ValidationError) as refused:
        arrival_reverse(arrival_id=arrival.pk, reason="wrong", actor=cashier)
    assert refused.value.messages == [
        "Case AC2026-0000001 is written off: the debt this money paid is closed, so the money "
        "cannot be reversed. If it never arrived, have the core contribution system send the "
        "amount again as arrears of the unit."
    ]
    assert Arrival.objects.get().state == ArrivalState.POSTED


def test_a_reversal_needs_a_reason_and_the_finance_department(case):
    arrival = arrive("A1", "100.00", "2026-03-01")
    with pytest.raises(ValidationError, match="Say why"):
        arrival_reverse(arrival_id=arrival.pk, reason="", actor=department_user(FINANCE, "f"))
    with pytest.raises(PermissionDenied, match="inspector may not reverse an arrival"):
        arrival_reverse(
            arrival_id=arrival.pk, reason="x", actor=department_user(AUDIT, "inspector")
        )
    assert Arrival.objects.get().state == ArrivalState.MATCHED


def test_a_case_reopens_overdue_when_the_unit_has_another_registered_case_by_then(case, cashier):
    # given the registered case was paid off, then new arrears of the unit opened a new case
    arrival = arrive("A1", "1022.50", "2026-03-01")
    arrivals_post(actor=SYSTEM)
    import_rows([ArrearsRowFactory(unit_no=1, person_no=2, period="2026-01")])
    newer = ArrearsCase.objects.get(state=CaseState.REGISTERED)

    # when the payment is reversed
    arrival_reverse(arrival_id=arrival.pk, reason="bounced", actor=cashier, on=IMPORT_DAY)

    # then the old case owes again as overdue (a unit has one registered case at most)
    assert case_figures(case.pk)[:3] == (CaseState.OVERDUE, D("1000.00"), D("22.50"))
    assert ArrearsCase.objects.get(pk=newer.pk).state == CaseState.REGISTERED
    assert AuditEntry.objects.get(transition="reopen").reason == (
        "arrival A1 reversed: bounced; the unit has another registered case, so it reopens as "
        "overdue"
    )
