"""A unit's overpayment credit, used: offset against its open arrears (automatically at the
adjustment, or by a collection clerk), refunded (applied for, approved by finance — twice above
the threshold — and paid out), and taken back when the arrival that made it is reversed."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    CaseState,
    CreditEntry,
    CreditOffset,
    CreditRefund,
    LedgerEntry,
    LedgerKind,
    RefundState,
)
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import arrival_match, arrival_post, arrival_reverse
from replenish.services.credit import (
    credit_offset,
    refund_apply,
    refund_approve,
    refund_pay,
    refund_reject,
    refund_withdraw,
    unit_credit,
    unit_locked_for_credit,
)
from replenish.services.credit_reversal import offsets_undo
from replenish.services.ledger import ledger_differences
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    department_user,
    import_arrivals,
    import_rows,
    portal_user,
)
from units.models import Unit
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases():
    """Unit 1's case A (1,000.00 due 2026-01-15, notified) and case B (1,000.00 due
    2025-12-15, registered later); 1,500.00 arrived on 2026-03-01 quoting A's notice: A owes
    1,022.50 that day, so 477.50 is the unit's credit."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    a = ArrearsCase.objects.get(unit__uscc=sample_uscc(1))
    notice = case_issue_notice(case_id=a.pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
    import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=2, period="2025-11", due_date="2025-12-15")]
    )
    b = ArrearsCase.objects.get(unit__uscc=sample_uscc(1), state=CaseState.REGISTERED)
    import_arrivals(
        [ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00", reference=notice.number)]
    )
    return a, b


def refresh(case):
    return ArrearsCase.objects.get(pk=case.pk)


# --- offset -----------------------------------------------------------------------------------


def test_the_adjustment_offsets_the_credit_against_the_units_other_case(two_cases):
    # given
    a, b = two_cases

    # when the adjustment posts the arrival
    report = adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)

    # then A is settled, and the 477.50 it left paid B (its fee fixed first: 76 days = 38.00)
    assert refresh(a).state == CaseState.SETTLED
    offset = CreditOffset.objects.get()
    assert (offset.case_id, offset.amount, offset.automatic) == (b.pk, D("477.50"), True)
    assert report.offsets == [offset]
    b = refresh(b)
    assert (b.paid_total, b.principal_unpaid + b.fee_unpaid) == (D("477.50"), D("560.50"))
    entries = LedgerEntry.objects.filter(source=f"offset:{offset.pk}").order_by("pk")
    assert [e.kind for e in entries] == [LedgerKind.LATE_FEE_FIXED, LedgerKind.PAYMENT_APPLIED]
    # by the rule of an arrival: the late fee first, then the employee, then the employer portion
    applied = entries[1]
    assert (applied.late_fee, applied.employee, applied.employer) == (
        D("-38.00"), D("-200.00"), D("-239.50"),
    )  # fmt: skip
    assert list(CreditEntry.objects.order_by("pk").values_list("kind", "amount")) == [
        ("overpayment", D("477.50")),
        ("offset", D("-477.50")),
    ]
    assert unit_credit(a.unit_id) == 0
    assert ledger_differences() == []
    # and the next adjustment offsets nothing more
    assert adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY).offsets == []


def test_an_offset_fixes_the_fee_only_of_the_lines_the_credit_reaches(two_cases):
    # given case B owes a second month, due later, which the 477.50 of credit will not reach
    _a, b = two_cases
    import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=2, period="2025-12", due_date="2026-01-15")]
    )
    later = ArrearsLine.objects.get(case=b, period="2025-12")
    assert later.fee_accrues_after == date(2026, 1, 15)

    # when the adjustment posts the arrival and offsets the credit against B
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)

    # then only the month the credit paid had its fee fixed; the later one accrues as before
    offset = CreditOffset.objects.get()
    assert offset.case_id == b.pk
    touched = set(
        LedgerEntry.objects.filter(source=f"offset:{offset.pk}").values_list("line_id", flat=True)
    )
    assert later.pk not in touched
    later.refresh_from_db()
    assert (later.fee_unpaid, later.fee_fixed_total) == (D("0.00"), D("0.00"))
    assert later.fee_accrues_after == date(2026, 1, 15)
    assert ledger_differences() == []


def test_money_read_after_an_offset_but_arrived_before_it_is_posted_first(two_cases):
    # given A1's credit offset against B on 2026-03-01
    a, b = two_cases
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    first = CreditOffset.objects.get()
    assert (first.case_id, first.offset_on) == (b.pk, IMPORT_DAY)
    # and money for B that arrived on 2026-02-20, read from a later arrivals file
    import_arrivals(
        [ArrivalRowFactory(arrival_ref="A2", unit_no=1, amount="300.00", arrived_on="2026-02-20")],
        today=date(2026, 3, 5),
    )
    late = Arrival.objects.get(arrival_ref="A2")
    arrival_match(arrival_id=late.pk, case_id=b.pk, actor=SYSTEM)

    # then posting it alone is refused: it would follow money posted later than it arrived
    with pytest.raises(ValidationError) as refused:
        arrival_post(arrival_id=late.pk, actor=SYSTEM)
    assert refused.value.code == "out_of_order" and "2026-03-01" in refused.value.messages[0]

    # when the next adjustment runs
    report = adjustments_post(actor=SYSTEM, as_of=date(2026, 3, 5))

    # then the offset was taken back in full, the money posted at its own date before any
    # credit, and what credit is left offset again on the adjustment's day
    first.refresh_from_db()
    assert first.reversed_amount == first.amount
    assert report.taken_back == [first.pk]
    assert "1 credit offset(s) taken back" in "\n".join(report.lines())
    assert [p.arrival_ref for p in report.arrivals] == ["A2"] and report.held == 0
    applied = LedgerEntry.objects.get(source=f"arrival:{late.pk}", kind=LedgerKind.PAYMENT_APPLIED)
    assert applied.effective_on == date(2026, 2, 20)
    again = CreditOffset.objects.exclude(pk=first.pk).get()
    assert (again.case_id, again.offset_on) == (b.pk, date(2026, 3, 5))
    # and the fee the offset fixed (76 days to 2026-03-01: 38.00) stayed fixed, as for a reversed
    # arrival (README): 39.48 in all, where the date order gives 38.27 (33.50 to 2026-02-20, then
    # 4.77 on the 733.50 left to 2026-03-05)
    line = ArrearsLine.objects.get(case=b, period="2025-11")
    assert line.fee_fixed_total == D("39.48")
    # and every yuan is on a case or still the unit's credit
    paid = refresh(a).paid_total + refresh(b).paid_total
    assert paid + unit_credit(a.unit_id) == D("1800.00")
    assert ledger_differences() == []


def _money_state():
    """Everything an offset's undoing writes, without the keys and times of the new rows."""
    return (
        list(
            LedgerEntry.objects.order_by("pk").values_list(
                "case_id", "line_id", "kind", "employer", "employee", "late_fee",
                "effective_on", "source", "reason",
            )
        ),
        list(CreditOffset.objects.order_by("pk").values_list("pk", "reversed_amount")),
        list(
            CreditEntry.objects.order_by("pk").values_list(
                "unit_id", "case_id", "offset_id", "kind", "amount", "effective_on", "reason"
            )
        ),
        list(
            ArrearsCase.objects.order_by("pk").values_list(
                "pk", "state", "principal_unpaid", "fee_unpaid", "paid_total"
            )
        ),
        list(
            ArrearsLine.objects.order_by("pk").values_list(
                "pk", "employer_unpaid", "employee_unpaid", "fee_unpaid", "fee_fixed_total"
            )
        ),
    )  # fmt: skip


def test_offsets_undone_together_leave_what_undoing_them_one_at_a_time_leaves(two_cases):
    # given three offsets of unit 1's credit against case B's one line, made on three days
    # (credit from A1 on 2026-03-01, then money for A, settled, on 2026-03-10 and 2026-03-20)
    a, b = two_cases
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    for ref, on in (("A3", date(2026, 3, 10)), ("A4", date(2026, 3, 20))):
        import_arrivals(
            [ArrivalRowFactory(arrival_ref=ref, unit_no=1, amount="100.00", arrived_on=on,
                               reference="")],
            today=on,
        )  # fmt: skip
        arrival_match(arrival_id=Arrival.objects.get(arrival_ref=ref).pk, case_id=a.pk,
                      actor=SYSTEM)  # fmt: skip
        adjustments_post(actor=SYSTEM, as_of=on)
    offsets = list(CreditOffset.objects.order_by("case_id", "-offset_on", "-pk"))
    assert [(o.case_id, o.offset_on) for o in offsets] == [
        (b.pk, date(2026, 3, 20)), (b.pk, date(2026, 3, 10)), (b.pk, IMPORT_DAY),
    ]  # fmt: skip

    def undone(*, together: bool):
        with transaction.atomic():
            unit_locked_for_credit(a.unit_id)
            locked = CreditOffset.objects.select_for_update().order_by(
                "case_id", "-offset_on", "-pk"
            )
            undo = [(o, o.amount - o.reversed_amount) for o in locked]
            for batch in [undo] if together else [[one] for one in undo]:
                offsets_undo(batch, on=date(2026, 4, 1), reason=lambda o: "test", actor=SYSTEM)
            state = _money_state()
            transaction.set_rollback(True)
        return state

    # when they are undone in one call, and (on the same data) one call each, newest first
    together, one_at_a_time = undone(together=True), undone(together=False)

    # then both leave the same ledger, offsets, credit and cases, with every offset taken back
    assert together == one_at_a_time
    ledger, taken_back, _credit, cases, _lines = together
    assert taken_back == [(o.pk, o.amount) for o in sorted(offsets, key=lambda o: o.pk)]
    assert dict((pk, state) for pk, state, *_ in cases)[b.pk] == CaseState.REGISTERED
    undoing = [e for e in ledger if e[7].startswith("offset:") and e[6] == date(2026, 4, 1)]
    # and the principal of the two older offsets runs up its fee again from the offset's day to
    # the newest one's (the fee fixed since on the smaller principal)
    assert (
        sorted(kind for _c, _l, kind, *_ in undoing)
        == [LedgerKind.LATE_FEE_FIXED] * 2 + [LedgerKind.PAYMENT_REVERSED] * 3
    )


def test_with_the_policy_off_the_credit_waits_for_a_collection_clerk(two_cases, settings):
    # given
    settings.CREDIT_OFFSET_AUTOMATIC = False
    a, b = two_cases
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    assert unit_credit(a.unit_id) == D("477.50") and not CreditOffset.objects.exists()

    # when a clerk of collection offsets it
    clerk = department_user(COLLECTION, "clerk")
    [offset] = credit_offset(unit_id=a.unit_id, actor=clerk, on=IMPORT_DAY)

    # then
    assert (offset.case_id, offset.amount, offset.automatic, offset.actor_label) == (
        b.pk, D("477.50"), False, "clerk",
    )  # fmt: skip
    assert unit_credit(a.unit_id) == 0


@pytest.mark.parametrize("department", [FINANCE, AUDIT])
def test_only_collection_offsets_credit(two_cases, settings, department):
    settings.CREDIT_OFFSET_AUTOMATIC = False
    a, _b = two_cases
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    before = all_table_counts()
    with pytest.raises(PermissionDenied):
        credit_offset(unit_id=a.unit_id, actor=department_user(department), on=IMPORT_DAY)
    assert all_table_counts() == before


def test_credit_beyond_every_debt_stays_credit(two_cases):
    # given 2,000.00 more arrived for B
    a, b = two_cases
    import_arrivals(
        [ArrivalRowFactory(arrival_ref="A2", unit_no=1, amount="2000.00", reference="")]
    )
    arrival_match(arrival_id=Arrival.objects.get(arrival_ref="A2").pk, case_id=b.pk, actor=SYSTEM)

    # when the adjustment posts both (A2 pays B in full; A1's credit then has nothing to pay)
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)

    # then both cases are settled and what is left is the unit's credit, never dropped
    assert {refresh(a).state, refresh(b).state} == {CaseState.SETTLED}
    arrived = D("3500.00")
    paid = refresh(a).paid_total + refresh(b).paid_total
    assert paid + unit_credit(a.unit_id) == arrived


# --- refund -----------------------------------------------------------------------------------


@pytest.fixture
def credit(settings):
    """Unit 1 has 477.50 of credit and no other case."""
    settings.CREDIT_OFFSET_AUTOMATIC = True
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1500.00")])
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    unit_id = ArrearsCase.objects.get().unit_id
    assert unit_credit(unit_id) == D("477.50")
    return unit_id


def apply(unit_id, amount="400.00", actor=SYSTEM, **kwargs):
    values = dict(account_name="单位1有限公司", account_bank="工商银行", account_no="6222 0001")
    return refund_apply(unit_id=unit_id, amount=D(amount), actor=actor, **{**values, **kwargs})


def test_a_refund_from_application_to_payment_out(credit):
    # given the unit's portal user applies

    member = portal_user("unit1", unit=Unit.objects.get(pk=credit))
    refund = apply(credit, actor=member)
    assert (refund.state, refund.account_no, refund.applied_by) == ("applied", "62220001", "unit1")
    assert refund.refund_no.startswith("R")
    # nothing is taken before the approval
    assert unit_credit(credit) == D("477.50")

    # when finance approves and pays it out
    cashier = department_user(FINANCE, "cashier")
    refund_approve(refund_id=refund.pk, actor=cashier)
    assert unit_credit(credit) == D("77.50")
    refund = refund_pay(
        refund_id=refund.pk, paid_on=IMPORT_DAY, payout_ref="OUT-1", actor=cashier,
        today=IMPORT_DAY,
    )  # fmt: skip

    # then
    refund = CreditRefund.objects.get(pk=refund.pk)
    assert (refund.state, refund.paid_on, refund.payout_ref, refund.approver) == (
        RefundState.PAID, IMPORT_DAY, "OUT-1", cashier,
    )  # fmt: skip
    assert CreditEntry.objects.get(kind="refund").amount == D("-400.00")
    # and recording it again changes nothing
    refund_pay(
        refund_id=refund.pk, paid_on=IMPORT_DAY, payout_ref="OUT-1", actor=cashier,
        today=IMPORT_DAY,
    )  # fmt: skip
    assert CreditEntry.objects.filter(kind="refund").count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": "477.51"}, "amount"),
        ({"account_no": ""}, "account_no"),
        ({"account_no": "6222-ABC"}, "account_no"),
        ({"account_name": " "}, "account_name"),
        ({"amount": "0.00"}, "amount"),
    ],
)
def test_a_refund_application_refused_says_why_and_changes_nothing(credit, changes, field):
    before = all_table_counts()
    with pytest.raises(ValidationError) as refused:
        apply(credit, **changes)
    assert field in refused.value.message_dict
    assert all_table_counts() == before and not CreditRefund.objects.exists()


def test_what_open_applications_ask_for_cannot_be_asked_again(credit):
    apply(credit, "400.00")
    with pytest.raises(ValidationError, match=r"77\.50"):
        apply(credit, "100.00")


def test_above_the_threshold_two_different_approvers(credit, settings):
    # given
    settings.CREDIT_REFUND_SECOND_APPROVAL_ABOVE = D("100.00")
    refund = apply(credit, "400.00")
    first, second = department_user(FINANCE, "first"), department_user(FINANCE, "second")

    # when the first approves, it is approved once; the same person cannot approve again
    refund_approve(refund_id=refund.pk, actor=first)
    assert CreditRefund.objects.get(pk=refund.pk).state == RefundState.FIRST_APPROVED
    assert unit_credit(credit) == D("477.50")
    with pytest.raises(PermissionDenied, match="second approver"):
        refund_approve(refund_id=refund.pk, actor=first)

    # then a second approver approves it, and the credit is taken
    refund_approve(refund_id=refund.pk, actor=second)
    refund = CreditRefund.objects.get(pk=refund.pk)
    assert (refund.state, refund.first_approver, refund.approver) == ("approved", first, second)
    assert unit_credit(credit) == D("77.50")


def test_a_refund_is_rejected_with_a_reason_or_withdrawn_and_the_credit_stays(credit):
    cashier = department_user(FINANCE, "cashier")
    refund = apply(credit, "100.00")
    with pytest.raises(ValidationError):
        refund_reject(refund_id=refund.pk, reason=" ", actor=cashier)
    refund_reject(refund_id=refund.pk, reason="账户名与单位不符", actor=cashier)
    withdrawn = refund_withdraw(
        refund_id=apply(credit, "50.00").pk, actor=department_user(COLLECTION)
    )
    assert withdrawn.state == RefundState.WITHDRAWN
    assert CreditRefund.objects.get(pk=refund.pk).state == RefundState.REJECTED
    assert unit_credit(credit) == D("477.50")
    # an approved refund can no longer be withdrawn
    approved = refund_approve(refund_id=apply(credit, "10.00").pk, actor=cashier)
    with pytest.raises(ValidationError):
        refund_withdraw(refund_id=approved.pk, actor=SYSTEM)


@pytest.mark.parametrize("department", [COLLECTION, AUDIT])
def test_only_finance_approves_and_pays_refunds(credit, department):
    refund = apply(credit)
    before = all_table_counts()
    clerk = department_user(department)
    with pytest.raises(PermissionDenied):
        refund_approve(refund_id=refund.pk, actor=clerk)
    with pytest.raises(PermissionDenied):
        refund_pay(refund_id=refund.pk, paid_on=IMPORT_DAY, payout_ref="X", actor=clerk)
    assert all_table_counts() == before


def test_another_units_portal_user_cannot_apply(credit):
    import_rows([ArrearsRowFactory(unit_no=2, person_no=9)])
    other = portal_user("unit2", unit=Unit.objects.get(uscc=sample_uscc(2)))
    with pytest.raises(PermissionDenied):
        apply(credit, actor=other)


# --- the arrival that made the credit is reversed ---------------------------------------------


def test_reversing_the_arrival_whose_credit_paid_another_case_makes_that_case_owe_again(
    two_cases,
):
    # given the credit of A1 paid B
    a, b = two_cases
    adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY)
    owed_before = refresh(b).principal_unpaid + refresh(b).fee_unpaid

    # when finance reverses A1
    arrival = Arrival.objects.get(arrival_ref="A1")
    arrival_reverse(arrival_id=arrival.pk, reason="退票", actor=SYSTEM, on=IMPORT_DAY)

    # then B owes again what the credit had paid, A owes again, and the credit is zero
    b = refresh(b)
    assert b.principal_unpaid + b.fee_unpaid == owed_before + D("477.50")
    assert b.paid_total == 0
    assert refresh(a).state == CaseState.NOTIFIED
    assert unit_credit(a.unit_id) == 0
    assert CreditOffset.objects.get().reversed_amount == D("477.50")
    assert list(CreditEntry.objects.order_by("pk").values_list("kind", "amount")) == [
        ("overpayment", D("477.50")),
        ("offset", D("-477.50")),
        ("offset_reversed", D("477.50")),
        ("reversed", D("-477.50")),
    ]
    assert ledger_differences() == []


def test_reversing_an_arrival_whose_credit_was_refunded_is_refused_and_says_what_to_recover(
    credit,
):
    # given the credit was refunded
    cashier = department_user(FINANCE, "cashier")
    refund = refund_approve(refund_id=apply(credit, "400.00").pk, actor=cashier)
    before = all_table_counts()

    # when / then
    with pytest.raises(ValidationError, match=refund.refund_no):
        arrival_reverse(
            arrival_id=Arrival.objects.get().pk, reason="退票", actor=SYSTEM, on=IMPORT_DAY
        )
    assert all_table_counts() == before
