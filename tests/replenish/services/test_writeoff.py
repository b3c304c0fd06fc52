"""Write-off (workflow step 4): the liquidation group's application, collection's examination,
audit's decision, and the adjustment that posts what was approved."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    AuditEntry,
    CaseState,
    LedgerEntry,
    LedgerKind,
    WriteOffApplication,
    WriteOffDocumentKind,
    WriteOffState,
)
from replenish.services.adjustment import adjustments_post
from replenish.services.writeoff import (
    writeoff_accept,
    writeoff_approve,
    writeoff_reject,
    writeoff_resubmit,
    writeoff_return,
    writeoff_submit,
)
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    all_table_counts,
    case_of,
    department_user,
    go_bankrupt,
    import_rows,
    pay,
    submitted_writeoff,
    writeoff_uploads,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
DECIDED = date(2026, 3, 2)
K = WriteOffDocumentKind


@pytest.fixture
def case():
    """Unit 1 owes 1,000.00 due 2026-01-15 and went bankrupt (accepted 2026-02-10): its
    liquidation group owes 1,000.00 + 25 days of late fee = 12.50, fixed."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return go_bankrupt(case_of(sample_uscc(1)))


@pytest.fixture
def clerk():
    return department_user(COLLECTION, "clerk")


@pytest.fixture
def auditor():
    return department_user(AUDIT, "auditor")


@pytest.fixture
def accepted(case, clerk):
    application = submitted_writeoff(case, actor=clerk)
    return writeoff_accept(application_id=application.pk, actor=clerk)


def test_collection_records_the_application_and_the_case_goes_into_writeoff(case, clerk):
    # given a case in `registered` owed by the liquidation group
    assert (case.state, case.obligor.kind) == (CaseState.REGISTERED, "liquidation_group")

    # when collection records the group's application with its five documents
    application = submitted_writeoff(case, actor=clerk)

    # then it is submitted, with the documents, and the case is under examination
    application = WriteOffApplication.objects.get(pk=application.pk)
    assert application.writeoff_no.startswith("HX")
    assert (application.state, application.applicant_id) == (
        WriteOffState.SUBMITTED,
        case.obligor_id,
    )
    assert sorted(application.documents.values_list("kind", flat=True)) == sorted(K.values)
    case = ArrearsCase.objects.get(pk=case.pk)
    assert (case.state, case.state_before_writeoff) == (CaseState.WRITEOFF, CaseState.REGISTERED)
    assert list(
        AuditEntry.objects.filter(case=case).order_by("pk").values_list("subject", "transition")
    )[-2:] == [("case", "writeoff_submit"), ("writeoffapplication", "submit")]


def test_only_the_liquidation_group_of_a_bankrupt_unit_applies(clerk):
    # given a case of a unit that is not bankrupt
    import_rows([ArrearsRowFactory(unit_no=2, person_no=1)])
    case = case_of(sample_uscc(2))
    before = all_table_counts()

    # when / then
    with pytest.raises(ValidationError) as refused:
        submitted_writeoff(case, actor=clerk)
    assert refused.value.messages == [
        f"Case {case.case_no} is not owed by a liquidation group: only the liquidation group of "
        "a bankrupt unit applies for a write-off."
    ]
    assert all_table_counts() == before


def test_a_portal_user_may_not_apply_until_the_portal_knows_its_members(case):
    # given a user of no department (a portal user)
    outsider = department_user(FINANCE, "cashier")
    before = all_table_counts()

    # when / then
    with pytest.raises(PermissionDenied) as refused:
        submitted_writeoff(case, actor=outsider)
    assert str(refused.value) == (
        "cashier may not record a write-off application "
        "(needs permission replenish.add_writeoffapplication)."
    )
    assert all_table_counts() == before


def test_an_application_without_all_five_documents_cannot_be_accepted_and_is_returned(case, clerk):
    # given an application with only the two court rulings
    application = submitted_writeoff(
        case, actor=clerk, kinds=[K.BANKRUPTCY_RULING, K.TERMINATION_RULING]
    )

    # when collection tries to accept it
    with pytest.raises(ValidationError) as refused:
        writeoff_accept(application_id=application.pk, actor=clerk)

    # then it is refused, naming what is missing, and stays submitted
    assert refused.value.messages == [
        f"Write-off {application.writeoff_no} cannot be accepted: missing liquidation report; "
        "distribution plan; schedule of arrears that cannot be recovered."
    ]
    assert WriteOffApplication.objects.get(pk=application.pk).state == WriteOffState.SUBMITTED

    # when collection returns it with a reason, and the group resubmits the missing ones
    returned = writeoff_return(
        application_id=application.pk, reason="缺少清算报告、分配方案和不能清偿清单", actor=clerk
    )
    assert (returned.state, returned.return_reason) == (
        WriteOffState.RETURNED,
        "缺少清算报告、分配方案和不能清偿清单",
    )
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.WRITEOFF
    resubmitted = writeoff_resubmit(
        application_id=application.pk,
        documents=writeoff_uploads(
            [K.LIQUIDATION_REPORT, K.DISTRIBUTION_PLAN, K.UNRECOVERABLE_SCHEDULE]
        ),
        actor=clerk,
    )
    assert (resubmitted.state, resubmitted.return_reason) == (WriteOffState.SUBMITTED, "")

    # then it can be accepted
    accepted = writeoff_accept(application_id=application.pk, actor=clerk)
    assert (accepted.state, accepted.accepted_by) == (WriteOffState.ACCEPTED, clerk)


def test_a_return_needs_a_reason(case, clerk):
    application = submitted_writeoff(case, actor=clerk)
    with pytest.raises(ValidationError) as refused:
        writeoff_return(application_id=application.pk, reason="  ", actor=clerk)
    assert refused.value.message_dict == {"reason": ["Say which documents are missing."]}


def test_a_document_of_an_unknown_kind_is_refused(case, clerk):
    before = all_table_counts()
    with pytest.raises(ValidationError) as refused:
        writeoff_submit(case_id=case.pk, documents=writeoff_uploads(["receipt"]), actor=clerk)
    assert refused.value.messages == ["Document 1: receipt is not a kind of write-off document."]
    assert all_table_counts() == before


def test_audit_approves_and_the_adjustment_posts_the_write_off(case, accepted, auditor):
    # when audit approves
    approved = writeoff_approve(
        application_id=accepted.pk, actor=auditor, reason="清算终结，无财产可供清偿", today=DECIDED
    )

    # then the amount is fixed (principal and the fee up to the acceptance), the case still waits
    assert (approved.state, approved.approver, approved.decided_on) == (
        WriteOffState.APPROVED,
        auditor,
        DECIDED,
    )
    assert (approved.principal, approved.late_fee, approved.amount) == (
        D("1000.00"),
        D("12.50"),
        D("1012.50"),
    )
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.WRITEOFF

    # when the adjustment runs, twice
    report = adjustments_post(actor=SYSTEM, as_of=DECIDED)
    again = adjustments_post(actor=SYSTEM, as_of=DECIDED)

    # then the write-off is posted once, and the case is written off, owing nothing
    assert report.lines() == [
        "2026-03-02: 0 arrival(s) posted, 0.00 applied, 0.00 kept as credit, 0 case(s) settled",
        "2026-03-02: 1 write-off(s) posted, 1012.50 written off",
        f"  {approved.writeoff_no} {case.case_no}: 1012.50 written off "
        "(1000.00 principal, 12.50 late fee)",
    ]
    assert again.writeoffs == []
    case = ArrearsCase.objects.get(pk=case.pk)
    assert (case.state, case.principal_unpaid, case.fee_unpaid, case.written_off_total) == (
        CaseState.WRITTEN_OFF,
        D("0.00"),
        D("0.00"),
        D("1012.50"),
    )
    assert list(
        LedgerEntry.objects.filter(case=case, kind=LedgerKind.WRITTEN_OFF).values_list(
            "employer", "employee", "late_fee", "effective_on"
        )
    ) == [(D("-800.00"), D("-200.00"), D("-12.50"), DECIDED)]
    assert WriteOffApplication.objects.get(pk=accepted.pk).state == WriteOffState.POSTED
    written = AuditEntry.objects.get(case=case, transition="writeoff_approve")
    assert (written.actor, written.to_state) == (auditor, CaseState.WRITTEN_OFF)

    # and the export shows it
    out = io.StringIO()
    call_command("export_cases", "--date", "2026-03-02", stdout=out, stderr=io.StringIO())
    row = out.getvalue().splitlines()[1].split(",")
    assert row[3:] == ["written_off", "0.00", "0.00", "0.00", "1012.50", "0.00"]


def test_audit_rejects_with_a_reason_and_the_case_returns_where_it_came_from(
    case, accepted, auditor
):
    # when audit rejects without a reason, then with one
    with pytest.raises(ValidationError):
        writeoff_reject(application_id=accepted.pk, reason="", actor=auditor)
    rejected = writeoff_reject(application_id=accepted.pk, reason="尚有可供分配财产", actor=auditor)

    # then the application is rejected and the case is registered again
    assert (rejected.state, rejected.decision_reason) == (
        WriteOffState.REJECTED,
        "尚有可供分配财产",
    )
    case = ArrearsCase.objects.get(pk=case.pk)
    assert (case.state, case.state_before_writeoff) == (CaseState.REGISTERED, "")
    assert adjustments_post(actor=SYSTEM, as_of=DECIDED).writeoffs == []


def test_a_rejected_case_returns_as_overdue_when_new_arrears_opened_a_registered_case(
    case, accepted, auditor
):
    # given new arrears of the unit arrived while its case was under examination: they opened
    # a new registered case, since lines never join a case under write-off
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, period="2026-01")])
    newer = ArrearsCase.objects.exclude(pk=case.pk).get(unit_id=case.unit_id)
    assert newer.state == CaseState.REGISTERED

    # when audit rejects the write-off
    writeoff_reject(application_id=accepted.pk, reason="尚有可供分配财产", actor=auditor)

    # then the examined case owes again as overdue (a unit has one registered case at most),
    # and its audit row says why
    case = ArrearsCase.objects.get(pk=case.pk)
    assert (case.state, case.state_before_writeoff) == (CaseState.OVERDUE, "")
    assert ArrearsCase.objects.get(pk=newer.pk).state == CaseState.REGISTERED
    assert (
        AuditEntry.objects.filter(case=case, transition="writeoff_reject")
        .get()
        .reason.endswith("the unit has another registered case, so it returns as overdue")
    )


def test_a_rejected_case_that_was_paid_during_the_examination_is_settled(case, accepted, auditor):
    # given the liquidation group paid everything while the application was examined
    pay(case.pk, str(case.principal_unpaid + case.fee_unpaid), on=DECIDED)
    case.refresh_from_db()
    assert (case.state, case.principal_unpaid, case.fee_unpaid) == (CaseState.WRITEOFF, 0, 0)

    # when audit rejects the write-off
    writeoff_reject(application_id=accepted.pk, reason="已全额缴纳", actor=auditor)

    # then the case does not go back to owing nothing in `registered`: it is settled
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.SETTLED
    assert list(
        AuditEntry.objects.filter(case=case, subject="case")
        .order_by("id")
        .values_list("transition", flat=True)
    )[-2:] == ["writeoff_reject", "settle"]


def test_the_person_who_accepted_may_not_approve(case, clerk):
    # given a collection clerk who also sits in audit accepted the application
    from django.contrib.auth.models import Group

    clerk.groups.add(Group.objects.get(name=AUDIT))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    application = submitted_writeoff(case, actor=clerk)
    writeoff_accept(application_id=application.pk, actor=clerk)
    before = all_table_counts()

    # when / then the same person may neither approve nor reject it
    for decide in (
        lambda: writeoff_approve(application_id=application.pk, actor=clerk, today=DECIDED),
        lambda: writeoff_reject(application_id=application.pk, reason="x", actor=clerk),
    ):
        with pytest.raises(PermissionDenied) as refused:
            decide()
        assert str(refused.value) == (
            f"clerk accepted write-off {application.writeoff_no} and may not also decide it: "
            "another person in audit must."
        )
    assert all_table_counts() == before
    assert WriteOffApplication.objects.get(pk=application.pk).state == WriteOffState.ACCEPTED


def test_finance_cannot_approve_and_collection_cannot_decide(accepted):
    before = all_table_counts()
    for username, department in (("cashier", FINANCE), ("clerk2", COLLECTION)):
        user = department_user(department, username)
        with pytest.raises(PermissionDenied) as refused:
            writeoff_approve(application_id=accepted.pk, actor=user, today=DECIDED)
        assert str(refused.value) == (
            f"{username} may not decide a write-off (needs permission replenish.decide_writeoff)."
        )
    assert all_table_counts() == before


def test_audit_cannot_examine_an_application(case, auditor):
    application = submitted_writeoff(case)
    with pytest.raises(PermissionDenied) as refused:
        writeoff_accept(application_id=application.pk, actor=auditor)
    assert str(refused.value) == (
        "auditor may not examine a write-off application "
        "(needs permission replenish.examine_writeoff)."
    )


def test_above_the_limit_two_different_approvers_are_needed(case, accepted, auditor, settings):
    # given a limit below the case's 1,012.50
    settings.WRITEOFF_DUAL_APPROVAL_ABOVE = D("1000.00")
    second = department_user(AUDIT, "auditor2")

    # when the first auditor approves
    first = writeoff_approve(application_id=accepted.pk, actor=auditor, today=DECIDED)

    # then it waits for a second approver, and nothing is posted yet
    assert (first.state, first.first_approver, first.principal) == (
        WriteOffState.FIRST_APPROVED,
        auditor,
        None,
    )
    assert adjustments_post(actor=SYSTEM, as_of=DECIDED).writeoffs == []

    # when the same auditor approves again, then it is refused
    with pytest.raises(PermissionDenied) as refused:
        writeoff_approve(application_id=accepted.pk, actor=auditor, today=DECIDED)
    assert str(refused.value) == (
        f"auditor already approved write-off {accepted.writeoff_no}: the second approver must be "
        "another person."
    )

    # when another auditor approves, then it is approved
    final = writeoff_approve(application_id=accepted.pk, actor=second, today=DECIDED)
    assert (final.state, final.first_approver, final.approver, final.amount) == (
        WriteOffState.APPROVED,
        auditor,
        second,
        D("1012.50"),
    )


def test_at_the_limit_one_approval_is_enough(case, accepted, auditor, settings):
    settings.WRITEOFF_DUAL_APPROVAL_ABOVE = D("1012.50")
    approved = writeoff_approve(application_id=accepted.pk, actor=auditor, today=DECIDED)
    assert approved.state == WriteOffState.APPROVED


def test_a_submitted_application_cannot_be_approved_before_collection_accepts_it(case, auditor):
    application = submitted_writeoff(case)
    with pytest.raises(ValidationError) as refused:
        writeoff_approve(application_id=application.pk, actor=auditor, today=DECIDED)
    assert refused.value.messages == [
        f"write-off application {application.writeoff_no} is submitted, waiting for collection: "
        "approve is not possible from that state."
    ]


def test_a_case_has_one_open_application_at_a_time(case, clerk):
    submitted_writeoff(case, actor=clerk)
    with pytest.raises(ValidationError) as refused:
        submitted_writeoff(case, actor=clerk)
    assert refused.value.messages == [
        f"arrears case {case.case_no} is write-off under examination: apply for a write-off is not "
        "possible from that state."
    ]


def test_no_notice_reminder_goes_out_for_a_case_under_write_off_examination():
    # given a notice of unit 1 delivered 4 March (deadline 11 March, reminder due 9 March), the
    # unit bankrupt on 5 March and its liquidation group's application submitted
    from notices.models import Notification, Reminder
    from notices.reminders import reminders_send_due
    from notices.services import case_issue_notice
    from tests.factories import at_nine, deliver

    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = case_of(sample_uscc(1))
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    deliver(notice, date(2026, 3, 4))
    Notification.objects.all().delete()
    submitted_writeoff(go_bankrupt(case, accepted_on=date(2026, 3, 5)))
    assert Reminder.objects.filter(rule__code="notice_deadline_approaching").count() == 1

    # when the reminders due on 9 March and on 12 March are sent
    sent = reminders_send_due(now=at_nine(date(2026, 3, 9))) + reminders_send_due(
        now=at_nine(date(2026, 3, 12))
    )

    # then none went out: the case is under examination
    assert sent == 0
    assert set(Reminder.objects.values_list("state", flat=True)) == {"cancelled"}
    assert not Notification.objects.exists()
