"""Issue 13, rule 4: corrections of wrongly imported lines, four eyes, from a form, a file and a
command."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from replenish.departments import COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    CaseState,
    CorrectionState,
    CreditEntry,
    CreditKind,
    LedgerEntry,
    LedgerKind,
    LineCorrection,
)
from replenish.selectors import case_owed, line_late_fee
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.arrival import arrival_reverse, arrivals_post
from replenish.services.corrections import (
    correction_approve,
    correction_record,
    correction_reject,
    line_amounts,
)
from replenish.services.credit import credit_offset, unit_credit
from replenish.services.ledger import ledger_differences
from replenish.services.unit_events import EventDocument, Party, unit_record_merger
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    all_table_counts,
    department_user,
    import_arrivals,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    """800.00 + 200.00 due 2026-01-15."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return ArrearsLine.objects.get()


@pytest.fixture
def clerks():
    return department_user(COLLECTION, "recorder"), department_user(COLLECTION, "approver")


def record(line, employer, employee, by, reason="核定错误"):
    return correction_record(
        line_id=line.pk,
        employer_amount=D(employer),
        employee_amount=D(employee),
        reason=reason,
        document_ref="稽核通知书 2026-017",
        actor=by,
    )


def test_a_correction_up_takes_effect_when_a_second_user_approves_it(line, clerks):
    # given a correction to 1,200.00 + 300.00 recorded by one collection user
    recorder, approver = clerks
    correction = record(line, "1200.00", "300.00", recorder)
    assert case_owed(line.case_id, as_of=date(2026, 3, 1)).principal == D("1000.00")

    # when a second one approves it
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 1))

    # then a `corrected` entry moves the principal, and the fee runs on 1,500.00 from the due date
    entry = LedgerEntry.objects.get(kind=LedgerKind.CORRECTION)
    assert (entry.employer, entry.employee, entry.late_fee) == (D("400.00"), D("100.00"), D("0"))
    line.refresh_from_db()
    assert line_late_fee(line, as_of=date(2026, 3, 1)) == D("33.75")  # 1,500 x 0.0005 x 45
    correction.refresh_from_db()
    assert (correction.state, correction.decided_by) == (CorrectionState.APPROVED, approver)
    assert ledger_differences() == []


def test_a_correction_below_what_was_paid_recomputes_the_fee_and_keeps_the_rest_as_credit(
    line, clerks
):
    # given 500.00 arrived on 2026-03-01: fee 22.50 fixed and paid, employee 200.00, employer 277.50
    import_arrivals([ArrivalRowFactory(unit_no=1, amount="500.00", arrived_on="2026-03-01")])
    arrivals_post(actor=SYSTEM)
    recorder, approver = clerks

    # when the line is corrected to 200.00 + 100.00 (wrong from the start) and approved
    correction = record(line, "200.00", "100.00", recorder)
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 10))

    # then the fee fixed on 03-01 is on 300.00 (45 days: 6.75, corrected by -15.75), what was
    # paid beyond the corrected debt (77.50 + 100.00 + 15.75) is the unit's credit, and the case,
    # owing nothing, is settled
    line.refresh_from_db()
    assert (line.employer_unpaid, line.employee_unpaid, line.fee_unpaid) == (D("0"),) * 3
    assert line.fee_fixed_total == D("6.75")
    credit = CreditEntry.objects.filter(reason__contains="correction").get()
    assert credit.amount == D("193.25")
    assert ArrearsCase.objects.get().state == CaseState.SETTLED
    assert ledger_differences() == []


def test_both_portions_to_zero_cancel_the_line(line, clerks):
    recorder, approver = clerks
    correction = record(line, "0.00", "0.00", recorder, reason="重复申报")
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 1))
    assert case_owed(line.case_id, as_of=date(2026, 6, 1)).total == D("0.00")
    assert ArrearsCase.objects.get().state == CaseState.SETTLED
    assert ledger_differences() == []


def test_the_recorder_cannot_approve_or_reject_their_own_correction(line, clerks):
    # given a correction recorded by one user
    recorder, _approver = clerks
    correction = record(line, "900.00", "200.00", recorder)
    before = all_table_counts()

    # when the same user approves it, then it is refused in Chinese and nothing changed
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        correction_approve(correction_id=correction.pk, actor=recorder)
    assert "另一名征缴部门" in str(refused.value)
    with pytest.raises(ValidationError):
        correction_reject(correction_id=correction.pk, reason="x", actor=recorder)
    assert all_table_counts() == before
    assert LineCorrection.objects.get().state == CorrectionState.RECORDED


def test_a_rejected_correction_changes_nothing(line, clerks):
    recorder, approver = clerks
    correction = record(line, "900.00", "200.00", recorder)
    entries = LedgerEntry.objects.count()
    correction_reject(correction_id=correction.pk, reason="凭证不符", actor=approver)
    assert LedgerEntry.objects.count() == entries
    assert LineCorrection.objects.get().state == CorrectionState.REJECTED


def test_a_line_of_a_case_under_agreement_is_refused_saying_what_to_do(line, clerks):
    # given the case under an agreement
    officer = UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)
    draft = agreement_draft(
        case_id=line.case_id, installment_count=2, actor=officer, drafted_on=date(2026, 3, 1)
    )
    agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 3, 1))
    before = all_table_counts()

    # when a correction is recorded, then it is refused in Chinese and nothing changed
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        record(line, "900.00", "200.00", clerks[0])
    assert "终止协议" in str(refused.value)
    assert all_table_counts() == before


def test_amounts_the_line_already_has_are_refused(line, clerks):
    before = all_table_counts()
    with pytest.raises(ValidationError, match="already has these amounts"):
        record(line, "800.00", "200.00", clerks[0])
    assert all_table_counts() == before


CSV_HEADER = "unit_uscc,period,id_number,employer_amount,employee_amount,reason\n"


def write(tmp_path, body: str):
    path = tmp_path / "corrections.csv"
    path.write_text(CSV_HEADER + body, encoding="utf-8")
    return path


def test_the_command_records_a_file_of_corrections(line, clerks, tmp_path):
    # given a file correcting the line
    row = ArrearsRowFactory(unit_no=1, person_no=1)
    path = write(tmp_path, f"{row.unit_uscc},2025-12,{row.id_number},700.00,150.00,核定通知 17\n")

    # when it is imported by one collection user
    out = io.StringIO()
    call_command("import_corrections", str(path), "--by", "recorder", stdout=out)

    # then the correction waits for a second user's approval
    assert "1 correction(s) recorded" in out.getvalue()
    correction = LineCorrection.objects.get()
    assert (correction.employer_amount, correction.employee_amount) == (D("700.00"), D("150.00"))
    assert correction.state == CorrectionState.RECORDED
    correction_approve(correction_id=correction.pk, actor=clerks[1], on=date(2026, 3, 1))
    assert case_owed(line.case_id, as_of=date(2026, 3, 1)).principal == D("850.00")


def test_a_file_with_any_bad_row_is_rejected_whole(line, clerks, tmp_path):
    # given a good row, the same line again, an unknown line and a bad amount
    row = ArrearsRowFactory(unit_no=1, person_no=1)
    other = ArrearsRowFactory(unit_no=1, person_no=2)
    path = write(
        tmp_path,
        f"{row.unit_uscc},2025-12,{row.id_number},700.00,150.00,核定通知 17\n"
        f"{row.unit_uscc},2025-12,{row.id_number},600.00,150.00,核定通知 18\n"
        f"{other.unit_uscc},2025-12,{other.id_number},1.00,1.00,核定通知 19\n"
        f"{row.unit_uscc},2025-11,{row.id_number},-1,0.00,核定通知 20\n",
    )
    before = all_table_counts()

    # when it is imported, then every bad row is reported and nothing is written
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_corrections", str(path), stderr=err, stdout=io.StringIO())
    report = err.getvalue()
    assert "line 3: id_number: the same line as line 2" in report
    assert "line 5: employer_amount: must not be negative" in report
    assert all_table_counts() == before


def test_an_agreement_ended_the_day_it_was_signed_freezes_no_day_of_a_corrected_fee(line, clerks):
    # given an agreement signed on 2026-03-01 and ended that same day by the unit's merger
    # (found by the ledger state machine)
    recorder, approver = clerks
    signed_on = date(2026, 3, 1)
    draft = agreement_draft(
        case_id=line.case_id, installment_count=2, actor=SYSTEM, drafted_on=signed_on
    )
    agreement_sign(agreement_id=draft.pk, actor=SYSTEM, signed_on=signed_on)
    unit_record_merger(
        unit_id=line.unit_id,
        merging_party=Party(name="上海申江控股集团有限公司", uscc=sample_uscc(4242)),
        document=EventDocument(occurred_on=signed_on),
        actor=SYSTEM,
        today=signed_on,
    )

    # when the line is corrected down to 500.00
    correction = record(line, "400.00", "100.00", recorder)
    correction_approve(correction_id=correction.pk, actor=approver, on=signed_on)

    # then its fee is the pure rule's on 500.00 from the due date: 45 days, 11.25
    line.refresh_from_db()
    assert line_late_fee(line, as_of=signed_on) == D("11.25")
    assert ledger_differences() == []


def test_reversing_an_arrival_after_a_correction_moved_its_money_to_credit_restores_only_the_rest(
    line, clerks
):
    # given 500.00 arrived on 2026-03-01 and paid the line; the line was then corrected to
    # 200.00 + 100.00, which moved 193.25 of that money to the unit's credit (found by the ledger
    # state machine on PostgreSQL: the reversal restored the whole 500.00 to the line)
    import_arrivals([ArrivalRowFactory(unit_no=1, amount="500.00", arrived_on="2026-03-01")])
    arrivals_post(actor=SYSTEM)
    recorder, approver = clerks
    correction = record(line, "200.00", "100.00", recorder)
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 10))
    arrival = Arrival.objects.get()

    # when finance reverses the arrival
    arrival_reverse(
        arrival_id=arrival.pk,
        reason="银行退票",
        actor=department_user(FINANCE, "cashier"),
        on=date(2026, 3, 10),
    )

    # then the line owes its corrected debt again, no more, and the credit is taken back
    line.refresh_from_db()
    assert (line.employer_unpaid, line.employee_unpaid) == (D("200.00"), D("100.00"))
    assert line.fee_unpaid == line.fee_fixed_total
    assert unit_credit(line.unit_id) == D("0.00")
    assert ledger_differences() == []


def test_money_a_credit_offset_paid_and_a_correction_moved_back_belongs_to_the_offset(line, clerks):
    # given 2,000.00 arrived for unit 1: its case owed 1,022.50, the rest is credit
    recorder, approver = clerks
    import_arrivals([ArrivalRowFactory(unit_no=1, amount="2000.00", arrived_on="2026-03-01")])
    arrivals_post(actor=SYSTEM)
    credit = unit_credit(line.unit_id)
    assert credit == D("977.50")
    # and a later line of the unit, paid from that credit by an offset
    import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=2, period="2026-01", due_date="2026-02-15")],
        today=date(2026, 3, 2),
    )
    later = ArrearsLine.objects.exclude(pk=line.pk).get()
    [offset] = credit_offset(unit_id=line.unit_id, actor=recorder, on=date(2026, 3, 2))

    # when that line is cancelled as wrongly imported
    correction = record(later, "0.00", "0.00", recorder, reason="重复申报")
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 10))

    # then the money the offset paid is credit again, attributed to the offset (not to an
    # arrival of the same number)
    moved = CreditEntry.objects.get(kind=CreditKind.CORRECTED)
    assert (moved.line_id, moved.offset_id, moved.arrival_id) == (later.pk, offset.pk, None)
    assert unit_credit(line.unit_id) == credit
    # and reversing the arrival takes the whole credit back, the first case owing again
    arrival_reverse(
        arrival_id=Arrival.objects.get().pk,
        reason="银行退票",
        actor=department_user(FINANCE, "cashier"),
        on=date(2026, 3, 10),
    )
    assert unit_credit(line.unit_id) == D("0.00")
    line.refresh_from_db()
    assert line.principal_unpaid == D("1000.00")
    later.refresh_from_db()
    assert (later.principal_unpaid, later.fee_unpaid) == (D("0.00"), D("0.00"))
    assert ledger_differences() == []


def test_reversing_an_arrival_whose_corrected_money_was_credited_to_a_later_payment_fits(
    line, clerks
):
    # given 600.00 arrived on 2026-03-01 (fee 22.50, employee 200.00, employer 377.50) and a
    # counter payment of 91.48 the same day (employer)
    recorder, approver = clerks
    import_arrivals(
        [
            ArrivalRowFactory(
                arrival_ref="A1", unit_no=1, amount="600.00", arrived_on="2026-03-01"
            ),
            ArrivalRowFactory(arrival_ref="A2", unit_no=1, amount="91.48", arrived_on="2026-03-01"),
        ]
    )
    arrivals_post(actor=SYSTEM)
    # and the line corrected to 799.99 + 50.00: 150.00 of the employee portion and 3.38 of the
    # fee go back to credit, credited to the last money first (91.48 to A2, though A2 paid the
    # employer portion, which keeps it; 61.90 to A1)
    correction = record(line, "799.99", "50.00", recorder)
    correction_approve(correction_id=correction.pk, actor=approver, on=date(2026, 3, 10))
    moved = dict(
        CreditEntry.objects.filter(kind=CreditKind.CORRECTED).values_list(
            "arrival__arrival_ref", "amount"
        )
    )
    assert moved == {"A1": D("61.90"), "A2": D("91.48")}
    # and that credit offset against the line again
    credit_offset(unit_id=line.unit_id, actor=recorder, on=date(2026, 3, 10))
    assert unit_credit(line.unit_id) == D("0.00")

    # when finance reverses A1 (found by the ledger state machine: "91.48 of the payment fits no
    # portion", since what is left of A1's money is more than its own portions still hold)
    arrival_reverse(
        arrival_id=Arrival.objects.get(arrival_ref="A1").pk,
        reason="银行退票",
        actor=department_user(FINANCE, "cashier"),
        on=date(2026, 3, 10),
    )

    # then only A2's money is paid on the line, the credit A1 left is taken back from the
    # offset, and the ledger explains every figure
    line.refresh_from_db()
    assert line_amounts(line) == (D("799.99"), D("50.00"))
    paid_on_line = (
        D("849.99") + line.fee_fixed_total
        - line.employer_unpaid - line.employee_unpaid - line.fee_unpaid
    )  # fmt: skip
    assert paid_on_line == D("91.48")
    assert unit_credit(line.unit_id) == D("0.00")
    assert ledger_differences() == []
