"""`case_split`: a case apportioned among the separated parties, exact to the fen (the rules: every
line's portions sum exactly to the line; every successor's total within 0.01 of its exact share).
"""

import itertools
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replenish.models import ArrearsCase, ArrearsLine, CaseState, LedgerEntry
from replenish.services.ledger import ledger_differences
from replenish.services.succession import case_split
from replenish.services.unit_events import EventDocument, unit_record_split
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    SYSTEM,
    ArrearsRow,
    ArrearsRowFactory,
    PartyFactory,
    UserFactory,
    import_rows,
    table_counts,
)
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)
D = Decimal
PORTIONS = ("employer_unpaid", "employee_unpaid", "fee_unpaid")


def split_unit(unit_id: int, shares, *, actor=SYSTEM) -> None:
    unit_record_split(
        unit_id=unit_id,
        successors=[PartyFactory(share=share) for share in shares],
        document=EventDocument(occurred_on=TODAY),
        actor=actor,
        today=TODAY,
    )


def check_apportionment(original: ArrearsCase, shares) -> None:
    """The rules of docs/rules.md, checked on the database after a split."""
    successors = list(ArrearsCase.objects.filter(predecessor=original).order_by("pk"))
    assert len(successors) == len(shares)
    # every line: each portion, summed over the successors' lines taken from it, is the line's
    transferred = {
        line_id: (-employer, -employee, -fee)
        for line_id, employer, employee, fee in LedgerEntry.objects.filter(
            case=original, kind="transferred"
        ).values_list("line_id", "employer", "employee", "late_fee")
    }
    for line in ArrearsLine.objects.filter(case=original):
        parts = ArrearsLine.objects.filter(source_line=line)
        sums = tuple(sum((getattr(p, name) for p in parts), D(0)) for name in PORTIONS)
        assert sums == transferred[line.pk], line
        assert all(p.case.predecessor_id == original.pk for p in parts)
    # every successor: within 0.01 of its exact share of the case total
    total = sum((sum(t) for t in transferred.values()), D(0))
    for successor, share in zip(successors, shares, strict=True):
        owed = successor.principal_unpaid + successor.fee_unpaid
        assert abs(Fraction(owed) - Fraction(total) * Fraction(share)) <= Fraction(1, 100)
    assert sum(s.principal_unpaid + s.fee_unpaid for s in successors) == total
    original = ArrearsCase.objects.get(pk=original.pk)
    assert (original.state, original.principal_unpaid, original.fee_unpaid) == (
        CaseState.TRANSFERRED,
        D("0.00"),
        D("0.00"),
    )
    assert original.transferred_total == total
    assert ledger_differences() == []


def test_thirds_of_lines_that_do_not_divide_evenly_are_exact_to_the_fen():
    # given 100.00 + 20.00 due 2026-01-15 (fee to 2026-03-01: 120.00 x 0.0005 x 45 = 2.70) and
    # 10.01 + 0.01 due 2026-02-15 (10.02 x 0.0005 x 14 = 0.07014 -> 0.07): 132.79 in all
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1, person_no=1, employer_amount="100.00", employee_amount="20.00"
            ),
            ArrearsRowFactory(
                unit_no=1,
                person_no=2,
                employer_amount="10.01",
                employee_amount="0.01",
                due_date="2026-02-15",
            ),
        ]
    )
    original = ArrearsCase.objects.get()

    # when it is split in three thirds
    split_unit(original.unit_id, ["1/3", "1/3", "1/3"])

    # then each cell is its third rounded down or up, each line and portion sums exactly, and
    # each successor's total is within 0.01 of 132.79 / 3 = 44.263…
    cells = [
        (
            line.case.case_no,
            line.source_line.person.name,
            line.employer_unpaid,
            line.employee_unpaid,
            line.fee_unpaid,
        )
        for line in ArrearsLine.objects.filter(source_line__isnull=False)
        .select_related("case", "source_line__person")
        .order_by("case__case_no", "source_line_id")
    ]
    assert cells == [
        ("AC2026-0000002", "职工1", D("33.34"), D("6.66"), D("0.90")),
        ("AC2026-0000002", "职工2", D("3.34"), D("0.00"), D("0.03")),
        ("AC2026-0000003", "职工1", D("33.33"), D("6.67"), D("0.90")),
        ("AC2026-0000003", "职工2", D("3.34"), D("0.00"), D("0.02")),
        ("AC2026-0000004", "职工1", D("33.33"), D("6.67"), D("0.90")),
        ("AC2026-0000004", "职工2", D("3.33"), D("0.01"), D("0.02")),
    ]
    assert list(
        ArrearsCase.objects.filter(predecessor=original)
        .order_by("case_no")
        .values_list("principal_unpaid", "fee_unpaid")
    ) == [(D("43.34"), D("0.93")), (D("43.34"), D("0.92")), (D("43.34"), D("0.92"))]
    check_apportionment(original, [Fraction(1, 3)] * 3)


def test_a_case_of_a_split_unit_opened_later_is_apportioned_on_its_own():
    # given a split unit, and a late line that opened a case of its own
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    split_unit(ArrearsCase.objects.get().unit_id, ["1/4", "3/4"])
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1,
                person_no=2,
                employer_amount="0.03",
                employee_amount="0.00",
                due_date="2026-03-01",
            )
        ]
    )
    late = ArrearsCase.objects.get(state=CaseState.REGISTERED, predecessor__isnull=True)

    # when
    successors = case_split(case_id=late.pk, actor=SYSTEM, on=TODAY)

    # then 0.03 by 1/4 and 3/4: 0.01 and 0.02 (exact: 0.0075, 0.0225)
    assert [s.obligor.share for s in successors] == [Fraction(1, 4), Fraction(3, 4)]
    assert [ArrearsCase.objects.get(pk=s.pk).principal_unpaid for s in successors] == [
        D("0.01"),
        D("0.02"),
    ]
    check_apportionment(late, [Fraction(1, 4), Fraction(3, 4)])


def test_a_successor_that_takes_nothing_of_a_line_gets_no_line_for_it():
    # given 0.01 split in two halves
    import_rows(
        [
            ArrearsRowFactory(
                unit_no=1,
                person_no=1,
                employer_amount="0.01",
                employee_amount="0.00",
                due_date="2026-03-01",
            )
        ]
    )
    original = ArrearsCase.objects.get()

    # when
    split_unit(original.unit_id, ["1/2", "1/2"])

    # then one successor owes the fen and the other an empty case
    assert sorted(
        ArrearsCase.objects.filter(predecessor=original).values_list("principal_unpaid", flat=True)
    ) == [D("0.00"), D("0.01")]
    assert ArrearsLine.objects.filter(source_line__isnull=False).count() == 1


def test_a_successor_case_or_a_unit_without_a_split_cannot_be_apportioned():
    # given a split unit's successor case, and another unit's case
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2)])
    first = ArrearsCase.objects.get(unit__uscc=sample_uscc(1))
    split_unit(first.unit_id, ["1/2", "1/2"])
    successor = ArrearsCase.objects.filter(predecessor=first).first()
    other = ArrearsCase.objects.get(unit__uscc=sample_uscc(2))

    # then
    before = table_counts()
    with pytest.raises(ValidationError) as again:
        case_split(case_id=successor.pk, actor=SYSTEM, on=TODAY)
    with pytest.raises(ValidationError) as no_split:
        case_split(case_id=other.pk, actor=SYSTEM, on=TODAY)
    assert again.value.messages == [
        f"Case {successor.case_no} is already a successor's share of a split case."
    ]
    assert no_split.value.messages == [
        f"Unit {sample_uscc(2)} has no split recorded: case {other.case_no} cannot be apportioned."
    ]
    assert table_counts() == before


def test_splitting_needs_the_transfer_permission():
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    clerk = UserFactory(
        username="clerk",
        permissions=[p for p in COLLECTOR_PERMISSIONS if p != "replenish.transfer_case"],
    )

    # then
    with pytest.raises(PermissionDenied):
        split_unit(ArrearsCase.objects.get().unit_id, ["1/2", "1/2"], actor=clerk)


# --- property: any case, any shares -----------------------------------------------------------

amounts = st.integers(min_value=0, max_value=500_000).map(lambda fen: D(fen) / 100)
line_rows = st.lists(
    st.tuples(
        amounts,
        amounts,
        st.sampled_from(["2025-11-15", "2025-12-15", "2026-01-15", "2026-02-28", "2026-03-01"]),
    ).filter(lambda row: row[0] + row[1] > 0),
    min_size=1,
    max_size=8,
)


@st.composite
def share_lists(draw):
    """2 to 5 positive fractions summing to exactly 1, thirds and sevenths included."""
    count = draw(st.integers(min_value=2, max_value=5))
    denominator = draw(st.sampled_from([3, 6, 7, 12, 100, 997]))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(min_value=1, max_value=denominator * count - 1),
                min_size=count - 1,
                max_size=count - 1,
                unique=True,
            )
        )
    )
    bounds = [0, *cuts, denominator * count]
    return [Fraction(b - a, denominator * count) for a, b in itertools.pairwise(bounds)]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=line_rows, shares=share_lists())
def test_any_split_sums_exactly_per_line_and_within_a_fen_per_successor(rows, shares):
    with transaction.atomic():
        # given a case of random lines (the fee to 2026-03-01 fixed at the split)
        import_rows(
            [
                ArrearsRow(
                    unit_uscc=sample_uscc(1),
                    unit_name="单位1有限公司",
                    region_code="310101",
                    period="2025-12",
                    id_number=sample_id_number(n + 1, region_code="110101"),
                    person_name=f"职工{n + 1}",
                    base="8000.00",
                    employer_amount=str(employer),
                    employee_amount=str(employee),
                    due_date=due,
                )
                for n, (employer, employee, due) in enumerate(rows)
            ]
        )
        original = ArrearsCase.objects.get()

        # when
        split_unit(original.unit_id, shares)

        # then
        check_apportionment(original, shares)
        transaction.set_rollback(True)
