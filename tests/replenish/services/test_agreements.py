"""Installment agreements: drafting, signing (the fee fixed and frozen, the schedule), terminating,
and the refusals that change nothing."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings

from replenish.models import (
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    CaseState,
    Installment,
    LedgerEntry,
)
from replenish.selectors import case_owed
from replenish.services.agreements import (
    agreement_draft,
    agreement_preview,
    agreement_scan_attach,
    agreement_sign,
    agreement_terminate,
)
from replenish.services.ledger import ledger_differences
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsCaseFactory,
    ArrearsRowFactory,
    UserFactory,
    import_rows,
    table_counts,
)
from units.models import CounterpartyKind

pytestmark = pytest.mark.django_db
SIGNED_ON = date(2026, 3, 1)
D = Decimal


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


@pytest.fixture
def case():
    """Unit 1 owes 1,000.00 (800.00 + 200.00) due 2026-01-15 and 333.33 (300.00 + 33.33) due
    2026-02-15. As of 2026-03-01 the late fee is 22.50 (45 days) and 2.33 (333.33 x 0.0005 x 14
    = 2.33331)."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(
                unit_no=1,
                person_no=2,
                employer_amount="300.00",
                employee_amount="33.33",
                due_date="2026-02-15",
            ),
        ]
    )
    return ArrearsCase.objects.get()


def signed(case, officer, *, count=7, on=SIGNED_ON) -> Agreement:
    draft = agreement_draft(case_id=case.pk, installment_count=count, actor=officer, drafted_on=on)
    return agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=on, signatory="张三")


def test_a_draft_is_numbered_and_made_with_the_unit_itself(case, officer):
    # when
    draft = agreement_draft(
        case_id=case.pk, installment_count=7, actor=officer, drafted_on=SIGNED_ON, note="资金困难"
    )

    # then
    assert draft.number == "A310101-2026-000001"
    assert (draft.kind, draft.state, draft.installment_count) == (
        AgreementKind.INSTALLMENT,
        AgreementState.DRAFT,
        7,
    )
    assert draft.counterparty.kind == CounterpartyKind.UNIT
    assert draft.counterparty.unit_id == case.unit_id
    assert draft.counterparty.display_name == "单位1有限公司"
    assert ArrearsCase.objects.get().state == CaseState.REGISTERED
    assert LedgerEntry.objects.filter(kind="late_fee_fixed").count() == 0
    assert list(
        AuditEntry.objects.filter(subject="agreement").values_list(
            "subject_id", "transition", "from_state", "to_state", "actor_label"
        )
    ) == [(draft.pk, "draft", "", "draft", "officer")]


def test_the_preview_shows_what_signing_would_fix(case):
    # when
    preview = agreement_preview(case=case, count=7, signed_on=SIGNED_ON)

    # then: 1,333.33 + 24.83 = 1,358.16 in 7: 194.02 six times and 194.04 last
    assert (preview.principal, preview.late_fee, preview.total) == (
        D("1333.33"),
        D("24.83"),
        D("1358.16"),
    )
    assert [(i.seq, i.due_on, i.amount) for i in preview.installments] == [
        (1, date(2026, 4, 1), D("194.02")),
        (2, date(2026, 5, 1), D("194.02")),
        (3, date(2026, 6, 1), D("194.02")),
        (4, date(2026, 7, 1), D("194.02")),
        (5, date(2026, 8, 1), D("194.02")),
        (6, date(2026, 9, 1), D("194.02")),
        (7, date(2026, 10, 1), D("194.04")),
    ]
    assert Agreement.objects.count() == 0


def test_signing_fixes_the_late_fee_per_line_and_splits_the_total_into_installments(case, officer):
    # when
    agreement = signed(case, officer)

    # then the fee to the signing date is posted per line, rounded per line
    assert list(
        LedgerEntry.objects.filter(kind="late_fee_fixed")
        .order_by("line_id")
        .values_list("late_fee", "effective_on", "source", "actor_label")
    ) == [
        (D("22.50"), SIGNED_ON, f"agreement:{agreement.pk}", "officer"),
        (D("2.33"), SIGNED_ON, f"agreement:{agreement.pk}", "officer"),
    ]
    # and the agreement holds the fixed amounts and the schedule
    agreement = Agreement.objects.get()
    assert agreement.state == AgreementState.IN_FORCE
    assert (agreement.signed_on, agreement.signatory) == (SIGNED_ON, "张三")
    assert (agreement.principal, agreement.late_fee, agreement.total) == (
        D("1333.33"),
        D("24.83"),
        D("1358.16"),
    )
    assert agreement.paid_before == D("0.00")
    assert list(
        Installment.objects.order_by("seq").values_list("seq", "due_on", "amount", "cumulative")
    ) == [
        (1, date(2026, 4, 1), D("194.02"), D("194.02")),
        (2, date(2026, 5, 1), D("194.02"), D("388.04")),
        (3, date(2026, 6, 1), D("194.02"), D("582.06")),
        (4, date(2026, 7, 1), D("194.02"), D("776.08")),
        (5, date(2026, 8, 1), D("194.02"), D("970.10")),
        (6, date(2026, 9, 1), D("194.02"), D("1164.12")),
        (7, date(2026, 10, 1), D("194.04"), D("1358.16")),
    ]
    # and the case is under the agreement, its fixed fee cached, the ledger consistent
    case = ArrearsCase.objects.get()
    assert case.state == CaseState.AGREEMENT
    assert (case.principal_unpaid, case.fee_unpaid) == (D("1333.33"), D("24.83"))
    assert ledger_differences() == []
    assert list(AuditEntry.objects.order_by("id").values_list("subject", "transition", "to_state"))[
        -3:
    ] == [
        ("agreement", "draft", "draft"),
        ("agreement", "sign", "in_force"),
        ("case", "agreement_take_effect", "agreement"),
    ]


def test_no_late_fee_accrues_while_the_agreement_is_in_force(case, officer):
    # given
    signed(case, officer)

    # then the fee is the one fixed at signing, however late we look
    for as_of in (SIGNED_ON, date(2026, 6, 30), date(2027, 3, 1)):
        assert case_owed(case.pk, as_of=as_of).late_fee == D("24.83")
    assert set(ArrearsLine.objects.values_list("fee_stops_on", flat=True)) == {SIGNED_ON}


def test_terminating_resumes_the_fee_from_the_day_after_and_makes_the_case_overdue(case, officer):
    # given
    agreement = signed(case, officer)

    # when the agreement is terminated on 2026-04-10
    agreement_terminate(
        agreement_id=agreement.pk, actor=officer, reason="单位申请解除", on=date(2026, 4, 10)
    )

    # then
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.ended_on, agreement.end_reason) == (
        AgreementState.TERMINATED,
        date(2026, 4, 10),
        "单位申请解除",
    )
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE
    # and from 2026-04-11 to 2026-04-30 (20 days): 1,000.00 -> 10.00, 333.33 -> 3.33333 -> 3.33
    assert case_owed(case.pk, as_of=date(2026, 4, 10)).late_fee == D("24.83")
    assert case_owed(case.pk, as_of=date(2026, 4, 30)).late_fee == D("24.83") + D("13.33")


def test_a_withdrawn_draft_leaves_the_case_as_it_was(case, officer):
    # given
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)

    # when
    agreement_terminate(agreement_id=draft.pk, actor=officer, reason="草拟有误")

    # then
    assert Agreement.objects.get().state == AgreementState.TERMINATED
    assert ArrearsCase.objects.get().state == CaseState.REGISTERED
    # and a new draft can be made
    assert agreement_draft(case_id=case.pk, installment_count=3, actor=officer).number.endswith(
        "000002"
    )


def test_the_signed_scan_is_kept_under_media_root(case, officer, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    agreement = signed(case, officer)

    # when
    agreement_scan_attach(
        agreement_id=agreement.pk, file=ContentFile(b"%PDF-1.4", name="scan.pdf"), actor=officer
    )

    # then
    agreement = Agreement.objects.get()
    assert re.fullmatch(r"agreements/[0-9a-f]{32}\.pdf", agreement.scan.name)
    assert (tmp_path / agreement.scan.name).read_bytes() == b"%PDF-1.4"
    assert AuditEntry.objects.filter(transition="scan_attach").count() == 1


# --- refusals: a clear error, nothing changed ---------------------------------------------------


def refused(call, **kwargs) -> list[str]:
    before = table_counts()
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    assert table_counts() == before
    return error.value.messages


def test_an_agreement_longer_than_the_allowed_term_is_refused(case, officer):
    assert refused(agreement_draft, case_id=case.pk, installment_count=13, actor=officer) == [
        "Number of installments: 13 is not allowed; an agreement runs for 1 to 12 monthly "
        "installments."
    ]


@override_settings(INSTALLMENT_MAX_MONTHS=6)
def test_the_allowed_term_is_a_setting(case, officer):
    assert refused(agreement_draft, case_id=case.pk, installment_count=7, actor=officer)[
        0
    ].startswith("Number of installments: 7 is not allowed; an agreement runs for 1 to 6")


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (CaseState.SETTLED, "settled"),
        (CaseState.TRANSFERRED, "transferred to successors"),
        (CaseState.WRITTEN_OFF, "written off"),
        (CaseState.WRITEOFF, "write-off under examination"),
    ],
)
def test_an_agreement_for_a_closed_case_is_refused(officer, state, label):
    # given
    closed = ArrearsCaseFactory(state=state)

    # then
    assert refused(agreement_draft, case_id=closed.pk, installment_count=3, actor=officer) == [
        f"Case {closed.case_no} is {label}: an agreement is possible only for a registered, "
        "notified or overdue case."
    ]


def test_signing_an_agreement_twice_is_refused(case, officer):
    # given
    agreement = signed(case, officer)

    # then
    assert refused(agreement_sign, agreement_id=agreement.pk, actor=officer) == [
        f"Agreement {agreement.number} is in force: only a draft can be signed, once."
    ]


def test_a_second_live_agreement_for_a_case_is_refused(case, officer):
    # given
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)

    # then
    assert refused(agreement_draft, case_id=case.pk, installment_count=3, actor=officer) == [
        f"Case {case.case_no} already has agreement {draft.number} (draft)."
    ]


def test_a_case_under_an_agreement_takes_no_second_one(case, officer):
    # given
    signed(case, officer)

    # then
    assert refused(agreement_draft, case_id=case.pk, installment_count=3, actor=officer) == [
        f"Case {case.case_no} is already under an agreement in force."
    ]


def test_signing_in_the_future_or_before_the_draft_is_refused(case, officer):
    # given
    draft = agreement_draft(
        case_id=case.pk, installment_count=3, actor=officer, drafted_on=SIGNED_ON
    )

    # then
    assert refused(
        agreement_sign, agreement_id=draft.pk, actor=officer, signed_on=date(2999, 1, 1)
    ) == ["Signing date 2999-01-01 is in the future."]
    assert refused(
        agreement_sign, agreement_id=draft.pk, actor=officer, signed_on=date(2026, 2, 1)
    ) == ["Signing date 2026-02-01 is before the draft of 2026-03-01."]


def test_a_schedule_too_small_for_its_installments_is_refused(officer):
    # given a case owing 0.05
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1, employer_amount="0.05", employee_amount="0.00", due_date="2026-03-01"
            )
        ]
    )
    case = ArrearsCase.objects.get()

    # then
    assert refused(
        agreement_draft, case_id=case.pk, installment_count=12, actor=officer, drafted_on=SIGNED_ON
    ) == [
        f"Schedule of case {case.case_no}: total 0.05 is too small for 12 installments: each "
        "would be 0.00."
    ]


def test_terminating_needs_a_reason_and_a_live_agreement(case, officer):
    # given
    agreement = signed(case, officer)

    # then
    assert refused(agreement_terminate, agreement_id=agreement.pk, actor=officer, reason=" ") == [
        "Say why the agreement ends."
    ]
    agreement_terminate(agreement_id=agreement.pk, actor=officer, reason="解除")
    assert refused(agreement_terminate, agreement_id=agreement.pk, actor=officer, reason="x") == [
        f"Agreement {agreement.number} is terminated: it has already ended."
    ]


def test_a_scan_is_refused_before_signing_and_in_a_foreign_format(case, officer):
    # given
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)

    # then
    assert refused(
        agreement_scan_attach,
        agreement_id=draft.pk,
        file=ContentFile(b"%PDF-1.4", name="scan.pdf"),
        actor=officer,
    ) == [f"Agreement {draft.number} is not signed: there is no signed paper to scan yet."]
    assert (
        "scan.exe: files of this type are not accepted"
        in refused(
            agreement_scan_attach,
            agreement_id=draft.pk,
            file=ContentFile(b"x", name="scan.exe"),
            actor=officer,
        )[0]
    )


def test_staff_without_the_permission_cannot_draft(case):
    # given
    clerk = UserFactory(username="clerk", permissions=["replenish.view_arrearscase"])

    # then
    before = table_counts()
    with pytest.raises(PermissionDenied):
        agreement_draft(case_id=case.pk, installment_count=3, actor=clerk)
    assert table_counts() == before
