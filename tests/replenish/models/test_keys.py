"""The keys of the arrears lines, the ledger entries, the arrivals and the audit trail, kept by
the database a statement at a time (migration 0028, issue 21): a statement with a row whose
case, unit, person, source line, import batch, payer or actor does not exist is refused whole and
changes nothing; so is a line's or an arrival's key changed to a row that does not exist, and
(PostgreSQL) the deletion of a row any of them still refers to. SQLite leaves deletions to the
models' PROTECT."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsLine, Arrival, AuditEntry, LedgerEntry
from tests.factories import (
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db

LINES, ENTRIES = ArrearsLine._meta.db_table, LedgerEntry._meta.db_table
ARRIVALS, TRAIL = Arrival._meta.db_table, AuditEntry._meta.db_table
CASES, USERS = "replenish_arrearscase", get_user_model()._meta.db_table
# Each key: (table, column) and the table it refers to.
REFERS_TO = {
    (LINES, "case_id"): CASES,
    (LINES, "unit_id"): "units_unit",
    (LINES, "person_id"): "units_insuredperson",
    (LINES, "source_line_id"): LINES,
    (LINES, "import_batch_id"): "replenish_importbatch",
    (ENTRIES, "case_id"): CASES,
    (ENTRIES, "line_id"): LINES,
    (ENTRIES, "actor_id"): USERS,
    (ARRIVALS, "case_id"): CASES,
    (ARRIVALS, "payer_id"): "units_unit",
    (ARRIVALS, "import_batch_id"): "replenish_arrivalimport",
    (TRAIL, "case_id"): CASES,
    (TRAIL, "actor_id"): USERS,
}
KEYS = list(REFERS_TO)


def parent(table: str, column: str) -> str:
    return REFERS_TO[(table, column)]


@pytest.fixture
def imported():
    """Two lines imported by a user, with their ledger entries and the case's audit entry
    (recorded by that user), and an arrival of the unit matched to the case."""
    importer = department_user(COLLECTION, "importer")
    import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=n, period="2025-11") for n in (1, 2)],
        actor=importer,
    )
    import_arrivals([ArrivalRowFactory(unit_no=1)], actor=department_user(FINANCE, "finance"))
    assert Arrival.objects.filter(case__isnull=False, payer__isnull=False).exists()


def columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, table)
    return [c.name for c in described if c.name != "id"]


def first_row_copied(table: str, names: list[str], chosen: dict[str, str]) -> str:
    """A SELECT of the table's first row, the `chosen` columns replaced by SQL expressions."""
    values = ", ".join(chosen.get(name, name) for name in names)
    return f"SELECT {values} FROM {table} WHERE id = (SELECT MIN(id) FROM {table})"


def copies(table: str, column: str, value: int) -> str:
    """An INSERT of two copies of the table's first row: one as it is, one with `column` set to
    `value`. A line's copies move to periods of their own (a line is unique by unit, period and
    person), an arrival's take references of their own."""
    names = columns(table)

    def copy(key: str, n: str) -> str:
        unique = {"period": f"'2099-{n}'", "arrival_ref": f"arrival_ref || '-{n}'"}
        return first_row_copied(table, names, {**unique, column: key})

    first, second = copy(column, "01"), copy(str(value), "02")
    return f"INSERT INTO {table} ({', '.join(names)}) {first} UNION ALL {second}"


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def missing_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1000 FROM {table}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize(("table", "column"), KEYS)
def test_a_statement_with_a_row_whose_key_refers_to_nothing_is_refused_whole(
    imported, table, column
):
    # given a statement of two rows, the second referring to no row of the key's table
    before = count(table)
    statement = copies(table, column, missing_id(parent(table, column)))

    # when it runs, then the database refuses it, and neither row is there
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert count(table) == before


@pytest.mark.parametrize(("table", "column"), KEYS)
def test_the_same_statement_with_every_key_found_is_taken(imported, table, column):
    # given the same statement, its second row referring to a row that exists
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {parent(table, column)}")
        found = cursor.fetchone()[0]
    before = count(table)

    # when it runs, then both rows are there: the check refuses only what refers to nothing
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(copies(table, column, found))
    assert count(table) == before + 2


@pytest.mark.parametrize(
    ("table", "column"),
    [(LINES, c) for c in ("case_id", "unit_id", "person_id", "import_batch_id")]
    + [(ARRIVALS, c) for c in ("case_id", "payer_id", "import_batch_id")],
)
def test_a_key_changed_to_a_row_that_does_not_exist_is_refused(imported, table, column):
    # given an imported line, or an arrival matched to its case
    model = {LINES: ArrearsLine, ARRIVALS: Arrival}[table]
    row = model.objects.order_by("pk").first()
    before = model.objects.filter(pk=row.pk).values(column).get()

    # when its key is set to a row that does not exist, then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{column: missing_id(parent(table, column))})
    assert model.objects.filter(pk=row.pk).values(column).get() == before


# What a copy of a referenced row changes to be a row of its own (its unique columns).
OWN_COPY = {
    CASES: {"case_no": "case_no || '-copy'", "state": "'notified'"},
    "units_unit": {"uscc": "'91330100COPY00001X'"},
    "units_insuredperson": {"id_number": "'330100199001019999'"},
    LINES: {"period": "'2098-01'"},
    USERS: {"username": "username || '-copy'"},
}


def a_row_of_its_own(table: str) -> int:
    """A copy of the table's first row, by SQL: a row nothing refers to yet."""
    names = columns(table)
    copied = first_row_copied(table, names, OWN_COPY.get(table, {}))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) {copied} RETURNING id")
        return cursor.fetchone()[0]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite leaves deletions to the models' PROTECT"
)
@pytest.mark.parametrize(("table", "column"), KEYS)
def test_deleting_a_row_a_key_refers_to_is_refused(imported, table, column):
    # given a row of its own in the key's table, and one row of the table referring to it
    referred_table = parent(table, column)
    referred = a_row_of_its_own(referred_table)
    with connection.cursor() as cursor:
        cursor.execute(copies(table, column, referred))
    before = count(referred_table)

    # when it is deleted (by SQL: the model's PROTECT would refuse first), then the database
    # refuses it, saying which key still refers to it
    refused = pytest.raises(
        IntegrityError, match=f"{referred_table} deleted .* by {table}.{column}"
    )
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {referred_table} WHERE id = %s", [referred])
    assert count(referred_table) == before


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite leaves deletions to the models' PROTECT"
)
def test_deleting_a_row_nothing_refers_to_is_taken(imported):
    # given a case of its own that nothing refers to
    referred = a_row_of_its_own("replenish_arrearscase")

    # when it is deleted, then it is gone: the check refuses only what is still referred to
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM replenish_arrearscase WHERE id = %s", [referred])
    assert (
        not connection.cursor()
        .execute("SELECT 1 FROM replenish_arrearscase WHERE id = %s", [referred])
        .fetchone()
    )
