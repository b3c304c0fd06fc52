"""Successions of successors (issue 13, rule 5): a successor that is an insured unit itself and
later merges, splits, goes bankrupt or is auctioned passes on again every case it owes, the ones it
took over included; every line stays traceable to the original unit and person, and the claim
statement of a bankrupt successor lists the debts it inherited in their tiers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from notices.case_documents import claim_statement_document
from replenish.documents import claim_statement_context
from replenish.models import ArrearsCase, ArrearsLine, AuditEntry, CaseState
from replenish.selectors import case_owed
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.ledger import ledger_differences
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_auction,
    unit_record_bankruptcy,
    unit_record_merger,
    unit_record_split,
)
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsRowFactory,
    PartyFactory,
    UserFactory,
    import_rows,
)
from units.models import Counterparty, CounterpartyKind, Unit, UnitStatus

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)
D = Decimal


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


@pytest.fixture
def units():
    """Unit 1 owes 1,000.00 due 2026-01-15; units 2 and 3 owe 100.00 each, due the same day."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(
                unit_no=2, person_no=2, employer_amount="80.00", employee_amount="20.00"
            ),
            ArrearsRowFactory(
                unit_no=3, person_no=3, employer_amount="80.00", employee_amount="20.00"
            ),
        ]
    )
    return list(Unit.objects.order_by("uscc"))


def as_party(unit: Unit, share=None) -> Party:
    return PartyFactory(name=unit.name, uscc=unit.uscc, share=share)


def document(on=date(2026, 2, 20)) -> EventDocument:
    return EventDocument(occurred_on=on, document_ref="登记通知书")


def merge(unit, into, officer, on=date(2026, 2, 20)):
    return unit_record_merger(
        unit_id=unit.pk,
        merging_party=as_party(into),
        document=document(on),
        actor=officer,
        today=TODAY,
    )


def split(unit, among, officer, on=date(2026, 2, 20)):
    return unit_record_split(
        unit_id=unit.pk,
        successors=among,
        document=document(on),
        actor=officer,
        today=TODAY,
    )


def bankrupt(unit, officer, accepted_on):
    return unit_record_bankruptcy(
        unit_id=unit.pk,
        court="上海市第三中级人民法院",
        court_case_no="(2026)沪03破21号",
        accepted_on=accepted_on,
        liquidation_group=Party(name=f"{unit.name}清算组", head="李律师", contact="021-6000"),
        actor=officer,
        today=TODAY,
    )


def original_line_of(line: ArrearsLine) -> ArrearsLine:
    while line.source_line_id is not None:
        line = ArrearsLine.objects.get(pk=line.source_line_id)
    return line


def test_a_merging_party_that_merges_again_passes_on_the_case_it_took_over(units, officer):
    first, middle, last = units
    original = ArrearsCase.objects.get(unit=first)

    merge(first, middle, officer)
    merge(middle, last, officer, on=date(2026, 2, 25))

    # the case unit 1 began stays unit 1's, owed now by the last merging party
    case = ArrearsCase.objects.select_related("obligor").get(pk=original.pk)
    assert (case.unit_id, case.obligor.kind, case.obligor.unit_id) == (
        first.pk,
        CounterpartyKind.MERGING_PARTY,
        last.pk,
    )
    assert case.debtor_unit_id == last.pk
    # the middle unit's own case goes the same way
    assert ArrearsCase.objects.get(unit=middle).obligor == case.obligor
    # the chain is in the case's trail: both mergers, in order
    assert list(
        AuditEntry.objects.filter(case=case, subject="unit")
        .order_by("pk")
        .values_list("transition", "reason")
    ) == [
        ("merge", f"merged into {middle.name} ({middle.uscc}) on 2026-02-20"),
        ("merge", f"merged into {last.name} ({last.uscc}) on 2026-02-25"),
    ]
    # a line of unit 1 that arrives later is owed by the last party too
    assert Unit.objects.get(pk=first.pk).obligor == case.obligor
    import_rows([ArrearsRowFactory(unit_no=1, person_no=9, period="2026-01")])
    late = ArrearsCase.objects.get(
        unit=first, state=CaseState.REGISTERED, lines__person__name="职工9"
    )
    assert late.obligor == case.obligor
    assert ledger_differences() == []


def test_a_separated_party_that_splits_again_apportions_its_share_and_keeps_the_trace(
    units, officer
):
    first, second, third = units
    original_case = ArrearsCase.objects.get(unit=first)
    # unit 1 splits between unit 2 (1/2) and an enterprise the agency does not know (1/2)
    split(first, [as_party(second, "1/2"), PartyFactory(share="1/2")], officer)
    taken_over = ArrearsCase.objects.get(predecessor=original_case, obligor__unit=second)
    share = (taken_over.principal_unpaid, taken_over.fee_unpaid)

    # when unit 2 splits in turn, between unit 3 (1/3) and another (2/3)
    event = split(second, [as_party(third, "1/3"), PartyFactory(share="2/3")], officer)

    # then the share it took over is apportioned again, as its own case is
    assert ArrearsCase.objects.get(pk=taken_over.pk).state == CaseState.TRANSFERRED
    assert ArrearsCase.objects.get(unit=second, predecessor=None).state == CaseState.TRANSFERRED
    again = list(ArrearsCase.objects.filter(predecessor=taken_over).order_by("case_no"))
    assert [c.obligor.event_id for c in again] == [event.pk, event.pk]
    assert [c.unit_id for c in again] == [first.pk, first.pk]
    assert (
        sum((c.principal_unpaid for c in again), D(0)),
        sum((c.fee_unpaid for c in again), D(0)),
    ) == share
    # every line leads back, through each split, to unit 1's line and its person
    for line in ArrearsLine.objects.filter(case__in=again):
        source = original_line_of(line)
        assert source.case_id == original_case.pk
        assert (line.unit_id, line.person_id, line.period) == (
            first.pk,
            source.person_id,
            source.period,
        )
    # the unit the second split names owes its part of unit 1's debt and of unit 2's
    assert set(
        ArrearsCase.objects.filter(obligor__unit=third, state=CaseState.REGISTERED).values_list(
            "unit_id", flat=True
        )
    ) == {first.pk, second.pk}
    assert ledger_differences() == []


def test_a_separated_party_that_merges_passes_its_share_to_the_merging_party(units, officer):
    first, second, third = units
    split(first, [as_party(second, "1/2"), PartyFactory(share="1/2")], officer)
    taken_over = ArrearsCase.objects.get(obligor__unit=second)
    # an agreement the separated party signed for its share ends with its merger
    agreement = agreement_draft(
        case_id=taken_over.pk, installment_count=2, actor=officer, drafted_on=TODAY
    )
    agreement_sign(agreement_id=agreement.pk, actor=officer, signed_on=TODAY)

    merge(second, third, officer, on=date(2026, 2, 25))

    case = ArrearsCase.objects.select_related("obligor").get(pk=taken_over.pk)
    assert (case.obligor.unit_id, case.state) == (third.pk, CaseState.OVERDUE)
    agreement.refresh_from_db()
    assert agreement.state == "terminated"
    assert ledger_differences() == []


def test_a_bankrupt_successor_claims_the_debts_it_inherited_in_their_tiers(units, officer):
    first, second, _third = units
    merge(first, second, officer)
    accepted_on = date(2026, 2, 25)

    event = bankrupt(second, officer, accepted_on)

    # both cases, its own and the one it took over, are owed by its liquidation group and their
    # fee stops the day before the court accepted the successor's bankruptcy
    group = Counterparty.objects.get(event=event)
    cases = ArrearsCase.objects.filter(obligor=group)
    assert set(cases.values_list("unit_id", flat=True)) == {first.pk, second.pk}
    assert set(cases.values_list("bankruptcy_fee_stop", flat=True)) == {accepted_on - timedelta(1)}
    assert set(
        ArrearsLine.objects.filter(case__in=cases).values_list("fee_stops_on", flat=True)
    ) == {accepted_on - timedelta(1)}
    inherited = ArrearsCase.objects.get(unit=first)
    assert case_owed(inherited, as_of=TODAY + timedelta(days=90)) == case_owed(
        inherited, as_of=accepted_on - timedelta(1)
    )

    # the claim statement names the successor as debtor and lists what it inherited
    claim = claim_statement_context(event, today=TODAY)
    assert claim["debtor"] == {"name": second.name, "uscc": second.uscc}
    assert sorted(claim["case_nos"]) == sorted(cases.values_list("case_no", flat=True))
    tiers = {tier["key"]: tier["amount"] for tier in claim["tiers"]}
    # 1,000.00 (800.00 employer, 200.00 employee) and 100.00 (80.00, 20.00), fee 40 days
    # (2026-01-16 .. 2026-02-24) at 0.05 % a day: 20.00 and 2.00
    assert tiers == {"employee": D("220.00"), "employer": D("880.00"), "late_fee": D("22.00")}
    assert claim["inherited"] == [
        {
            "name": first.name,
            "uscc": first.uscc,
            "how": "merger",
            "on": date(2026, 2, 20),
            "employee": D("200.00"),
            "employer": D("800.00"),
            "late_fee": D("20.00"),
            "total": D("1020.00"),
        }
    ]
    text = claim_statement_document(event, language="zh-hans", today=TODAY).text()
    assert first.name in text and "1,020.00" in text

    # a line of unit 1 that arrives later is owed by the group and stops where its fee does
    import_rows([ArrearsRowFactory(unit_no=1, person_no=9, period="2026-01")])
    late = ArrearsLine.objects.get(person__name="职工9")
    assert (late.case.obligor, late.case.bankruptcy_fee_stop, late.fee_stops_on) == (
        group,
        accepted_on - timedelta(1),
        accepted_on - timedelta(1),
    )
    assert ledger_differences() == []


def test_an_auctioned_successor_passes_its_inherited_cases_to_the_authority(units, officer):
    first, second, _third = units
    split(first, [as_party(second, "1/2"), PartyFactory(share="1/2")], officer)

    event = unit_record_auction(
        unit_id=second.pk,
        lease=False,
        competent_authority=Party(name="上海市国资委", head="", contact=""),
        document=document(date(2026, 2, 25)),
        actor=officer,
        today=TODAY,
    )

    authority = Counterparty.objects.get(event=event)
    assert set(ArrearsCase.objects.filter(obligor=authority).values_list("unit_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert Unit.objects.get(pk=second.pk).status == UnitStatus.AUCTIONED
    # the share of the other separated party is not touched
    assert (
        ArrearsCase.objects.filter(
            unit=first, obligor__kind=CounterpartyKind.SEPARATED_PARTY, state=CaseState.REGISTERED
        ).count()
        == 1
    )
    assert ledger_differences() == []
