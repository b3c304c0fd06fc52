"""Unit events: merger, split, bankruptcy, sale or lease by auction. The unit's status follows its
event, its open cases pass to the new obligor, and bad input changes nothing."""

import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operations.daily import DAILY_ACTOR
from replenish.models import (
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    CaseState,
    LedgerEntry,
)
from replenish.selectors import case_owed
from replenish.services.agreements import agreement_draft, agreement_sign, agreements_breach_due
from replenish.services.ledger import ledger_differences
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_event_attach,
    unit_record_auction,
    unit_record_bankruptcy,
    unit_record_merger,
    unit_record_split,
)
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    SYSTEM,
    ArrearsCaseFactory,
    ArrearsRowFactory,
    PartyFactory,
    UnitFactory,
    UserFactory,
    import_rows,
    table_counts,
)
from units.models import CounterpartyKind, Unit, UnitEventKind, UnitStatus
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)
D = Decimal


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


@pytest.fixture
def case():
    """Unit 1 owes 1,000.00 due 2026-01-15 and 333.33 due 2026-02-15 (see test_agreements)."""
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


def document(on=date(2026, 2, 20)) -> EventDocument:
    return EventDocument(occurred_on=on, document_ref="沪市监合并登记〔2026〕18号")


def merge(case, officer, **kwargs):
    party = kwargs.pop("party", None) or PartyFactory(name="上海申江控股集团有限公司")
    return unit_record_merger(
        unit_id=case.unit_id,
        merging_party=party,
        document=document(),
        actor=officer,
        today=TODAY,
        **kwargs,
    )


def bankrupt(case, officer, accepted_on=date(2026, 2, 10)):
    return unit_record_bankruptcy(
        unit_id=case.unit_id,
        court="上海市第三中级人民法院",
        court_case_no="(2026)沪03破12号",
        accepted_on=accepted_on,
        liquidation_group=Party(name="单位1有限公司清算组", head="李律师", contact="021-6000"),
        actor=officer,
        today=TODAY,
    )


# --- merger -------------------------------------------------------------------------------------


def test_a_merger_makes_the_merging_party_the_obligor_of_the_open_cases(case, officer):
    # given the merging party is an insured unit the agency knows
    known = UnitFactory(uscc=sample_uscc(4242), name="上海申江控股集团有限公司")

    # when
    event = merge(case, officer, party=PartyFactory(uscc=known.uscc, name=known.name))

    # then
    unit = Unit.objects.get(pk=case.unit_id)
    party = event.parties.get()
    assert (event.kind, event.occurred_on, event.document_ref, event.recorded_by) == (
        UnitEventKind.MERGER,
        date(2026, 2, 20),
        "沪市监合并登记〔2026〕18号",
        "officer",
    )
    assert (party.kind, party.uscc, party.unit) == (
        CounterpartyKind.MERGING_PARTY,
        known.uscc,
        known,
    )
    assert (unit.status, unit.obligor) == (UnitStatus.MERGED, party)
    assert ArrearsCase.objects.get(pk=case.pk).obligor == party
    assert list(
        AuditEntry.objects.filter(subject="unit").values_list(
            "case_id", "transition", "from_state", "to_state", "reason"
        )
    ) == [
        (
            case.pk,
            "merge",
            "active",
            "merged",
            f"merged into 上海申江控股集团有限公司 ({known.uscc}) on 2026-02-20",
        )
    ]


def test_after_a_merger_the_agreement_is_signed_with_the_merging_party(case, officer):
    # given
    event = merge(case, officer)

    # when
    draft = agreement_draft(case_id=case.pk, installment_count=6, actor=officer, drafted_on=TODAY)
    agreement = agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=TODAY)

    # then
    assert (agreement.kind, agreement.counterparty) == (
        AgreementKind.MERGER,
        event.parties.get(),
    )
    assert agreement.total == D("1358.16")
    assert ArrearsCase.objects.get().state == CaseState.AGREEMENT


def test_a_merger_ends_the_installment_agreement_with_the_unit(case, officer):
    # given an installment agreement with the unit, signed 2026-02-01 (fee to then: 8.50)
    draft = agreement_draft(
        case_id=case.pk, installment_count=6, actor=officer, drafted_on=date(2026, 2, 1)
    )
    agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 2, 1))

    # when the merger is recorded on 2026-03-01
    merge(case, officer)

    # then the agreement is terminated, the case is due again and owed by the merging party
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.ended_on) == (AgreementState.TERMINATED, TODAY)
    assert agreement.end_reason.startswith("merged into 上海申江控股集团有限公司")
    case = ArrearsCase.objects.get()
    assert (case.state, case.obligor.kind) == (CaseState.OVERDUE, CounterpartyKind.MERGING_PARTY)
    # and the fee, frozen from 02-01, runs again from 03-02 on 1,333.33: 10 days to 03-11 =
    # 5.00 + 1.666665 -> 1.67
    assert case_owed(case.pk, as_of=TODAY).late_fee == D("8.50")
    assert case_owed(case.pk, as_of=date(2026, 3, 11)).late_fee == D("15.17")


# --- split --------------------------------------------------------------------------------------


def test_a_split_apportions_each_open_case_among_the_successors(case, officer):
    # given
    successors = [PartyFactory(share="1/2"), PartyFactory(share="1/4"), PartyFactory(share="1/4")]

    # when
    event = unit_record_split(
        unit_id=case.unit_id,
        successors=successors,
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # then the unit is split, the case transferred, each successor owes its own new case
    assert Unit.objects.get(pk=case.unit_id).status == UnitStatus.SPLIT
    parties = list(event.parties.order_by("pk"))
    assert [p.share for p in parties] == [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]
    original = ArrearsCase.objects.get(pk=case.pk)
    assert (original.state, original.principal_unpaid, original.transferred_total) == (
        CaseState.TRANSFERRED,
        D("0.00"),
        D("1358.16"),
    )
    successor_cases = list(ArrearsCase.objects.filter(predecessor=case).order_by("case_no"))
    assert [(c.case_no, c.obligor, c.state, c.unit_id) for c in successor_cases] == [
        ("AC2026-0000002", parties[0], CaseState.REGISTERED, case.unit_id),
        ("AC2026-0000003", parties[1], CaseState.REGISTERED, case.unit_id),
        ("AC2026-0000004", parties[2], CaseState.REGISTERED, case.unit_id),
    ]
    # 1,333.33 + 24.83 fixed fee = 1,358.16: every cell rounded down or up, every line exact,
    # and here each successor's total is its exact share (679.08, 339.54, 339.54)
    assert [(c.principal_unpaid, c.fee_unpaid) for c in successor_cases] == [
        (D("666.66"), D("12.42")),
        (D("333.33"), D("6.21")),
        (D("333.34"), D("6.20")),
    ]
    assert ledger_differences() == []


def test_each_successor_signs_its_own_split_agreement(case, officer):
    # given
    unit_record_split(
        unit_id=case.unit_id,
        successors=[PartyFactory(share="1/2"), PartyFactory(share="1/2")],
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # when
    agreements = []
    for successor in ArrearsCase.objects.filter(predecessor=case).order_by("pk"):
        draft = agreement_draft(
            case_id=successor.pk, installment_count=2, actor=officer, drafted_on=TODAY
        )
        agreements.append(agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=TODAY))

    # then
    assert [(a.kind, a.counterparty.kind, a.total) for a in agreements] == [
        (AgreementKind.SPLIT, CounterpartyKind.SEPARATED_PARTY, D("679.08")),
        (AgreementKind.SPLIT, CounterpartyKind.SEPARATED_PARTY, D("679.08")),
    ]


def test_a_split_ends_the_installment_agreement_and_the_successors_take_its_fixed_fee(
    case, officer
):
    # given an installment agreement in force since 2026-02-01 (fee fixed: 8.50)
    draft = agreement_draft(
        case_id=case.pk, installment_count=6, actor=officer, drafted_on=date(2026, 2, 1)
    )
    agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 2, 1))

    # when
    unit_record_split(
        unit_id=case.unit_id,
        successors=[PartyFactory(share="1/2"), PartyFactory(share="1/2")],
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # then no fee accrued while it was in force, and the successors share what was fixed
    assert Agreement.objects.get().state == AgreementState.TERMINATED
    assert sorted(
        ArrearsCase.objects.filter(predecessor=case).values_list("fee_unpaid", flat=True)
    ) == [D("4.25"), D("4.25")]


def test_a_successor_line_keeps_the_link_to_the_original_unit_period_and_person(case, officer):
    # when
    unit_record_split(
        unit_id=case.unit_id,
        successors=[PartyFactory(share="1/3"), PartyFactory(share="2/3")],
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # then
    for line in ArrearsLine.objects.filter(source_line__isnull=False).select_related(
        "source_line", "case"
    ):
        assert line.case.predecessor_id == case.pk
        assert (line.unit_id, line.period, line.person_id, line.due_date) == (
            line.source_line.unit_id,
            line.source_line.period,
            line.source_line.person_id,
            line.source_line.due_date,
        )
        assert line.source_line.case_id == case.pk


def test_new_arrears_of_a_split_unit_open_a_case_of_their_own(case, officer):
    # given a split unit
    unit_record_split(
        unit_id=case.unit_id,
        successors=[PartyFactory(share="1/2"), PartyFactory(share="1/2")],
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # when a late line of the unit arrives from the core system
    import_rows([ArrearsRowFactory(unit_no=1, person_no=3, period="2026-01")])

    # then it opens a new case of the unit, and does not join a successor's
    late = ArrearsCase.objects.get(import_batch__isnull=False, state=CaseState.REGISTERED)
    assert (late.case_no, late.lines.count(), late.predecessor) == ("AC2026-0000004", 1, None)
    assert [c.lines.count() for c in ArrearsCase.objects.filter(predecessor=case)] == [2, 2]


# --- bankruptcy ---------------------------------------------------------------------------------


def test_a_bankruptcy_fixes_the_fee_to_the_day_before_acceptance_and_stops_it(case, officer):
    # given the fee before the event as of the day before acceptance (2026-02-09): 25 days on
    # 1,000.00 = 12.50; the second line is not due until 2026-02-15
    assert case_owed(case.pk, as_of=date(2026, 2, 9)).late_fee == D("12.50")

    # when
    event = bankrupt(case, officer, accepted_on=date(2026, 2, 10))

    # then
    unit = Unit.objects.get(pk=case.unit_id)
    group = event.parties.get()
    assert (unit.status, unit.fee_stops_on, unit.obligor) == (
        UnitStatus.BANKRUPT,
        date(2026, 2, 9),
        group,
    )
    assert (event.court, event.court_case_no, event.accepted_on) == (
        "上海市第三中级人民法院",
        "(2026)沪03破12号",
        date(2026, 2, 10),
    )
    assert (group.kind, group.name, group.head, group.contact) == (
        CounterpartyKind.LIQUIDATION_GROUP,
        "单位1有限公司清算组",
        "李律师",
        "021-6000",
    )
    assert list(
        LedgerEntry.objects.filter(kind="late_fee_fixed").values_list(
            "late_fee", "effective_on", "source"
        )
    ) == [(D("12.50"), date(2026, 2, 9), f"bankruptcy:{event.pk}")]
    for as_of in (date(2026, 2, 10), TODAY, date(2027, 1, 1)):
        assert case_owed(case.pk, as_of=as_of).late_fee == D("12.50")
    assert ArrearsCase.objects.get().obligor == group
    assert ledger_differences() == []


def test_the_liquidation_agreement_is_signed_with_the_group_and_a_breach_does_not_restart_the_fee(
    case, officer
):
    # given
    bankrupt(case, officer)
    draft = agreement_draft(case_id=case.pk, installment_count=1, actor=officer, drafted_on=TODAY)
    agreement = agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=TODAY)
    assert (agreement.kind, agreement.total) == (AgreementKind.LIQUIDATION, D("1345.83"))

    # when its one installment (due 2026-04-01) stays unpaid past the grace days
    agreements_breach_due(as_of=date(2026, 4, 17), actor=DAILY_ACTOR)

    # then the agreement is breached but the fee stays stopped at the day before acceptance
    assert Agreement.objects.get().state == AgreementState.BREACHED
    assert case_owed(case.pk, as_of=date(2026, 12, 31)).late_fee == D("12.50")


def test_late_arriving_lines_of_a_bankrupt_unit_stop_at_acceptance_too(case, officer):
    # given
    bankrupt(case, officer, accepted_on=date(2026, 2, 10))

    # when a line due 2026-01-15 arrives afterwards: 25 days to 2026-02-09 on 500.00 = 6.25
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1,
                person_no=9,
                period="2025-11",
                employer_amount="400.00",
                employee_amount="100.00",
            )
        ]
    )

    # then it joins the unit's registered case, owed by the liquidation group, its fee stopped:
    # 12.50 fixed at the bankruptcy + 6.25
    late = ArrearsCase.objects.get(state=CaseState.REGISTERED)
    assert (late.lines.count(), late.obligor.kind) == (3, CounterpartyKind.LIQUIDATION_GROUP)
    assert case_owed(late.pk, as_of=date(2026, 9, 1)).late_fee == D("18.75")


# --- auction ------------------------------------------------------------------------------------


def test_an_auction_makes_the_competent_authority_the_obligor(case, officer):
    # when
    event = unit_record_auction(
        unit_id=case.unit_id,
        lease=True,
        competent_authority=Party(name="上海市黄浦区国有资产监督管理委员会", contact="021-2000"),
        document=document(),
        actor=officer,
        today=TODAY,
    )

    # then
    assert event.kind == UnitEventKind.AUCTION_LEASE
    assert Unit.objects.get(pk=case.unit_id).status == UnitStatus.AUCTIONED
    draft = agreement_draft(case_id=case.pk, installment_count=2, actor=officer, drafted_on=TODAY)
    assert (draft.kind, draft.counterparty.name) == (
        AgreementKind.AUCTION,
        "上海市黄浦区国有资产监督管理委员会",
    )


def test_attachments_are_kept_with_the_event(case, officer, tmp_path):
    # given
    override = override_settings(MEDIA_ROOT=tmp_path)
    override.enable()
    event = merge(case, officer)

    # when
    attachment = unit_event_attach(
        event_id=event.pk,
        title="合并登记通知书",
        file=ContentFile(b"%PDF-1.4", name="a.pdf"),
        actor=officer,
    )

    # then
    assert re.fullmatch(r"unit-events/[0-9a-f]{32}\.pdf", attachment.file.name)
    assert (tmp_path / attachment.file.name).read_bytes() == b"%PDF-1.4"
    assert list(event.attachments.values_list("title", "uploaded_by")) == [
        ("合并登记通知书", "officer")
    ]
    override.disable()


# --- refusals: a clear error, nothing changed ---------------------------------------------------


def refused(call, **kwargs) -> list[str]:
    before = table_counts()
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    assert table_counts() == before
    assert set(Unit.objects.values_list("status", flat=True)) == {UnitStatus.ACTIVE}
    return error.value.messages


def split(case, officer, successors):
    return dict(
        call=unit_record_split,
        unit_id=case.unit_id,
        successors=successors,
        document=document(),
        actor=officer,
        today=TODAY,
    )


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        (["1/3", "1/3", "1/6"], "The shares sum to 5/6; they must sum to exactly 1."),
        (["1/2", "1/2", "1/3"], "The shares sum to 4/3; they must sum to exactly 1."),
        (["1", "0"], "Successor 2: share 0 must be greater than 0."),
        (["4/3", "-1/3"], "Successor 2: share -1/3 must be greater than 0."),
        (
            ["1/2", "半"],
            "Successor 2: share: 半 is not a fraction such as 1/3 or a decimal such as 0.25.",
        ),
        (["0.5", ""], "Successor 2: share: missing."),
    ],
)
def test_shares_that_are_not_positive_or_do_not_sum_to_one_are_refused(
    case, officer, shares, message
):
    successors = [PartyFactory(share=share) for share in shares]
    assert message in refused(**split(case, officer, successors))


def test_a_successor_that_is_the_unit_itself_is_refused(case, officer):
    successors = [
        PartyFactory(share="1/2"),
        PartyFactory(share="1/2", name="自己", uscc=case.unit.uscc),
    ]
    assert refused(**split(case, officer, successors)) == [
        f"自己 is the unit itself ({case.unit.uscc}): name the party it passes to."
    ]


def test_the_same_successor_twice_is_refused(case, officer):
    twice = PartyFactory(share="1/3")
    successors = [twice, PartyFactory(share="1/3"), twice]
    assert refused(**split(case, officer, successors)) == [
        f"Successor 3: the same party as successor 1 ({twice.uscc})."
    ]


def test_a_split_needs_two_successors_with_valid_codes(case, officer):
    messages = refused(**split(case, officer, [PartyFactory(share="1", uscc="91310101MA1FL0000X")]))
    assert messages[0] == "A split names at least two separated parties."
    assert messages[1].startswith("Successor 1: Unified Social Credit Code: ")


def test_a_bankruptcy_accepted_in_the_future_is_refused(case, officer):
    assert refused(bankrupt, case=case, officer=officer, accepted_on=date(2026, 3, 2)) == [
        "Acceptance date 2026-03-02 is in the future (today is 2026-03-01)."
    ]


def test_a_bankruptcy_without_court_case_or_group_head_is_refused(case, officer):
    assert refused(
        unit_record_bankruptcy,
        unit_id=case.unit_id,
        court=" ",
        court_case_no="",
        accepted_on=date(2026, 2, 1),
        liquidation_group=Party(name="清算组"),
        actor=officer,
        today=TODAY,
    ) == [
        "Court is missing.",
        "Court case number is missing.",
        "Liquidation group: head is missing.",
    ]


def test_a_merger_into_the_unit_itself_is_refused(case, officer):
    assert refused(
        merge, case=case, officer=officer, party=PartyFactory(uscc=case.unit.uscc, name="自己")
    ) == [f"自己 is the unit itself ({case.unit.uscc}): name the party it passes to."]


def test_a_second_event_for_a_unit_is_refused(case, officer):
    # given
    merge(case, officer)

    # then
    before = table_counts()
    with pytest.raises(ValidationError) as error:
        bankrupt(case, officer)
    assert error.value.messages == [
        f"Unit {case.unit.uscc} is merged already: a unit has one succession event."
    ]
    assert table_counts() == before


def test_a_split_of_a_case_under_write_off_examination_is_refused_whole(case, officer):
    # given the unit has a second, older case under write-off examination
    ArrearsCaseFactory(unit=case.unit, state=CaseState.WRITEOFF, case_no="AC2025-0000009")

    # then
    assert refused(**split(case, officer, [PartyFactory(share="1/2"), PartyFactory(share="1/2")]))[
        0
    ].startswith("Case AC2025-0000009 is write-off under examination: only a registered")


def test_staff_without_the_permission_cannot_record_an_event(case):
    clerk = UserFactory(username="clerk", permissions=["units.view_unit"])
    before = table_counts()
    with pytest.raises(PermissionDenied):
        merge(case, clerk)
    assert table_counts() == before


# --- property: the fee of a bankrupt unit stands still from the acceptance date ----------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    accepted_after=st.integers(min_value=0, max_value=150),
    later=st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=5),
    amounts=st.lists(st.integers(min_value=1, max_value=300_000), min_size=1, max_size=4),
)
def test_a_bankrupt_units_fee_after_acceptance_equals_its_fee_the_day_before(
    accepted_after, later, amounts
):
    with transaction.atomic():
        # given lines due on the 15th of successive months from 2025-10
        import_rows(
            [
                ArrearsRowFactory(
                    unit_no=1,
                    person_no=n + 1,
                    employer_amount=str(D(fen) / 100),
                    employee_amount="0.00",
                    period=f"2025-{10 + n % 3:02d}",
                    due_date=f"2025-{10 + n % 3:02d}-15",
                )
                for n, fen in enumerate(amounts)
            ],
            today=TODAY,
        )
        case = ArrearsCase.objects.get()
        accepted_on = date(2025, 10, 1) + timedelta(days=accepted_after)
        day_before = accepted_on - timedelta(days=1)
        expected = case_owed(case.pk, as_of=day_before).late_fee

        # when the court's acceptance is recorded
        unit_record_bankruptcy(
            unit_id=case.unit_id,
            court="法院",
            court_case_no="(2026)破1号",
            accepted_on=accepted_on,
            liquidation_group=Party(name="清算组", head="组长"),
            actor=SYSTEM,
            today=TODAY,
        )

        # then the fee as of the day before and of any later day is the fee the day before
        for days in [0, *later]:
            assert case_owed(case.pk, as_of=accepted_on + timedelta(days=days)).late_fee == expected
        assert case_owed(case.pk, as_of=day_before).late_fee == expected
        transaction.set_rollback(True)


def test_a_bankruptcy_during_an_agreement_keeps_the_fee_frozen_from_the_signing(case, officer):
    # given an installment agreement signed 2026-02-01 (fee to then: 17 days on 1,000.00 = 8.50)
    draft = agreement_draft(
        case_id=case.pk, installment_count=6, actor=officer, drafted_on=date(2026, 2, 1)
    )
    agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 2, 1))

    # when the court accepts the bankruptcy on 2026-02-20 (recorded 2026-03-01)
    bankrupt(case, officer, accepted_on=date(2026, 2, 20))

    # then the agreement with the unit ended, the group owes the case, and no fee accrued after
    # the signing nor will
    assert Agreement.objects.get().state == AgreementState.TERMINATED
    case = ArrearsCase.objects.get()
    assert (case.state, case.obligor.kind) == (
        CaseState.OVERDUE,
        CounterpartyKind.LIQUIDATION_GROUP,
    )
    for as_of in (TODAY, date(2026, 12, 31)):
        assert case_owed(case.pk, as_of=as_of).late_fee == D("8.50")
    assert LedgerEntry.objects.filter(kind="late_fee_fixed").count() == 1
