"""A case's number and an arrival's reference are unique by constraints (replenish migration
0029), not by `unique=True`: a second row with the same value is refused, and on PostgreSQL the
pattern (`_like`) indexes `unique=True` and `db_index=True` added are gone."""

import pytest
from django.db import IntegrityError, connection, transaction

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, Arrival
from tests.factories import (
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db

CASES, ARRIVALS = ArrearsCase._meta.db_table, Arrival._meta.db_table


@pytest.fixture
def imported():
    """A case and an arrival matched to it."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)], actor=department_user(COLLECTION))
    import_arrivals([ArrivalRowFactory(unit_no=1)], actor=department_user(FINANCE))
    assert Arrival.objects.filter(case__isnull=False).exists()


def copy_of_first_row(table: str, changed: dict[str, str]) -> str:
    """An INSERT of a copy of the table's first row, with `changed` columns set to SQL values."""
    names = [
        c.name for c in connection.introspection.get_table_description(connection.cursor(), table)
    ]
    kept = [n for n in names if n != "id"]
    values = [changed.get(n, n) for n in kept]
    return (
        f"INSERT INTO {table} ({', '.join(kept)}) "
        f"SELECT {', '.join(values)} FROM {table} ORDER BY id LIMIT 1"
    )


def inserted(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except IntegrityError:
        return False
    return True


def test_a_second_case_with_the_same_number_is_refused(imported):
    # another state, so that only the number is the same (one registered case per unit)
    same_number = copy_of_first_row(CASES, {"state": "'notified'"})
    other_number = copy_of_first_row(CASES, {"state": "'notified'", "case_no": "'C-OTHER'"})

    assert not inserted(same_number)
    assert inserted(other_number)
    assert ArrearsCase.objects.count() == 2


def test_a_second_arrival_with_the_same_reference_is_refused(imported):
    assert not inserted(copy_of_first_row(ARRIVALS, {}))
    assert inserted(copy_of_first_row(ARRIVALS, {"arrival_ref": "'REF-OTHER'"}))
    assert Arrival.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_the_cases_and_arrivals_have_their_constraints_and_no_pattern_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (%s, %s)",
            [CASES, ARRIVALS],
        )
        indexes = dict(cursor.fetchall())

    assert {"case_no_unique", "arrival_ref_unique", "case_region", "case_state_no"} <= set(indexes)
    assert [name for name, definition in indexes.items() if "pattern_ops" in definition] == []
