"""`arrears_import`: the arrears file of docs/formats.md, accepted whole or rejected whole."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.csvfiles import FileRejected, RowError
from notices.services import case_issue_notice
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    CaseState,
    LedgerEntry,
    LedgerKind,
    NumberSequence,
)
from replenish.services.arrears_import import COLUMNS, arrears_import
from replenish.services.ledger import ledger_differences
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    arrears_csv,
    case_of,
    generated_rows,
    import_rows,
    table_counts,
)
from units.identifiers import validate_id_number, validate_region_code, validate_uscc
from units.models import InsuredPerson, Unit
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db
D = Decimal


def reason_of(validator, value: str) -> str:
    """The reason the import reports for a value the identifier validator refuses."""
    with pytest.raises(ValidationError) as refused:
        validator(value)
    return " ".join(str(m) for m in refused.value.messages)


def rejected(rows, **kwargs) -> list[RowError]:
    with pytest.raises(FileRejected) as refusal:
        import_rows(rows, **kwargs)
    return refusal.value.errors


def two_units_rows():
    """Unit 1: persons 1 and 2; unit 2: person 2 again and person 3."""
    return [
        ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11", due_date="2025-12-15"),
        ArrearsRowFactory(unit_no=1, person_no=1, period="2025-12"),
        ArrearsRowFactory(
            unit_no=1,
            person_no=2,
            base="9505.50",
            employer_amount="950.55",
            employee_amount="200.11",
        ),
        ArrearsRowFactory(
            unit_no=2,
            person_no=2,
            base="4752.00",
            employer_amount="475.20",
            employee_amount="100.04",
        ),
        ArrearsRowFactory(
            unit_no=2, person_no=3, base="6000.00", employer_amount="0.00", employee_amount="120.00"
        ),
    ]


# --- a valid file ----------------------------------------------------------------------------


def test_valid_file_creates_units_persons_cases_lines_and_assessed_entries():
    # given a file of two units, one person working at both
    rows = two_units_rows()

    # when it is imported
    result = import_rows(rows)

    # then every row became one line with one `assessed` entry, and each unit one case
    assert (
        result.rows,
        result.lines_created,
        result.lines_skipped,
        result.cases_opened,
        result.units_created,
    ) == (5, 5, 0, 2, 2)
    counts = table_counts()
    assert counts == {
        **dict.fromkeys(counts, 0),  # every other table of the workflow stays empty
        "units.Unit": 2,
        "units.InsuredPerson": 3,
        "replenish.ArrearsCase": 2,
        "replenish.ArrearsLine": 5,
        "replenish.LedgerEntry": 5,
        "replenish.AuditEntry": 2,
        "replenish.ImportBatch": 1,
        "replenish.NumberSequence": 1,
    }
    assert sorted(Unit.objects.values_list("uscc", "name", "region_code")) == [
        (sample_uscc(1), "单位1有限公司", "310101"),
        (sample_uscc(2), "单位2有限公司", "310101"),
    ]
    shared = InsuredPerson.objects.get(id_number=sample_id_number(2, region_code="110101"))
    assert shared.name == "职工2"
    assert ArrearsLine.objects.filter(person=shared).count() == 2
    assert list(
        ArrearsCase.objects.order_by("case_no").values_list(
            "case_no", "unit__uscc", "state", "opened_on", "principal_assessed", "principal_unpaid"
        )
    ) == [
        ("AC2026-0000001", sample_uscc(1), "registered", IMPORT_DAY, D("3150.66"), D("3150.66")),
        ("AC2026-0000002", sample_uscc(2), "registered", IMPORT_DAY, D("695.24"), D("695.24")),
    ]
    assert sorted(
        LedgerEntry.objects.values_list(
            "case__case_no", "kind", "employer", "employee", "late_fee", "effective_on"
        )
    ) == [
        ("AC2026-0000001", "assessed", D("800.00"), D("200.00"), D("0.00"), date(2025, 12, 15)),
        ("AC2026-0000001", "assessed", D("800.00"), D("200.00"), D("0.00"), date(2026, 1, 15)),
        ("AC2026-0000001", "assessed", D("950.55"), D("200.11"), D("0.00"), date(2026, 1, 15)),
        ("AC2026-0000002", "assessed", D("0.00"), D("120.00"), D("0.00"), date(2026, 1, 15)),
        ("AC2026-0000002", "assessed", D("475.20"), D("100.04"), D("0.00"), date(2026, 1, 15)),
    ]
    check = io.StringIO()
    call_command("check_ledger", stdout=check)
    assert check.getvalue() == "ledger and cached figures agree\n"


def test_lines_carry_their_amounts_and_start_their_late_fee_after_the_due_date():
    # given / when
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="812.34")])

    # then
    line = ArrearsLine.objects.get()
    assert (
        line.period,
        line.base,
        line.employer_amount,
        line.employee_amount,
        line.employer_unpaid,
        line.employee_unpaid,
        line.fee_unpaid,
        line.fee_accrues_after,
        line.fee_stops_on,
    ) == (
        "2025-12",
        D("8000.00"),
        D("812.34"),
        D("200.00"),
        D("812.34"),
        D("200.00"),
        D("0.00"),
        date(2026, 1, 15),
        None,
    )


def test_each_opened_case_has_an_audit_row_naming_the_file():
    # given / when
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)], file_name="core-2026-02.csv")

    # then
    entry = AuditEntry.objects.get()
    assert (
        entry.case.case_no,
        entry.subject,
        entry.transition,
        entry.from_state,
        entry.to_state,
        entry.actor_label,
        entry.reason,
    ) == (
        "AC2026-0000001",
        "case",
        "open",
        "",
        "registered",
        "system:tests",
        "arrears established by import of core-2026-02.csv",
    )


def test_importing_the_same_file_twice_adds_nothing():
    # given a file already imported
    rows = two_units_rows()
    import_rows(rows)
    before = table_counts()
    figures = list(ArrearsCase.objects.values_list("case_no", "principal_unpaid"))

    # when it is imported again
    result = import_rows(rows)

    # then every line is skipped and nothing at all is added, not even an import record
    assert (result.rows, result.lines_created, result.lines_skipped, result.cases_opened) == (
        5,
        0,
        5,
        0,
    )
    assert result.units_created == 0
    assert result.batch_id is None
    assert table_counts() == before
    assert list(ArrearsCase.objects.values_list("case_no", "principal_unpaid")) == figures
    assert ledger_differences() == []


def test_a_second_file_joins_the_registered_case_of_the_unit():
    # given a unit with a registered case
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11")])

    # when a second file brings another month for it
    result = import_rows(
        [ArrearsRowFactory(unit_no=1, person_no=2, period="2025-12", employer_amount="333.33")]
    )

    # then the line joins the case, which now owes both
    assert (result.lines_created, result.cases_opened) == (1, 0)
    case = ArrearsCase.objects.get()
    assert (case.case_no, case.principal_assessed, case.principal_unpaid) == (
        "AC2026-0000001",
        D("1533.33"),
        D("1533.33"),
    )
    assert case.lines.count() == 2
    assert NumberSequence.objects.get(scope="case:2026").last_value == 1
    assert ledger_differences() == []


def test_once_the_case_is_notified_a_new_file_opens_a_new_case():
    # given a unit whose case has been notified
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11")])
    notified = ArrearsCase.objects.get()
    case_issue_notice(case_id=notified.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))

    # when a new month arrives for the unit
    result = import_rows([ArrearsRowFactory(unit_no=1, person_no=1, period="2025-12")])

    # then a new registered case holds it and the notified case is untouched
    assert (result.lines_created, result.cases_opened) == (1, 1)
    assert list(
        ArrearsCase.objects.order_by("case_no").values_list("case_no", "state", "principal_unpaid")
    ) == [
        ("AC2026-0000001", "notified", D("1000.00")),
        ("AC2026-0000002", "registered", D("1000.00")),
    ]
    assert list(case_of(sample_uscc(1)).lines.values_list("period", flat=True)) == ["2025-12"]
    assert ledger_differences() == []


@pytest.mark.parametrize(
    ("column", "value", "reported"),
    [
        ("base", "8100.00", "8000.00"),
        ("employer_amount", "700.00", "800.00"),
        ("employee_amount", "200.01", "200.00"),
        ("due_date", "2026-01-16", "2026-01-15"),
    ],
)
def test_a_line_reimported_with_other_values_rejects_the_whole_file(column, value, reported):
    # given a line already imported
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    before = table_counts()

    # when a file brings a new line and that line again with one value changed
    errors = rejected(
        [
            ArrearsRowFactory(unit_no=2, person_no=7),
            ArrearsRowFactory(unit_no=1, person_no=1, **{column: value}),
        ]
    )

    # then the file is refused, naming the line and column, and nothing is written
    assert [str(e) for e in errors] == [
        f"line 3: {column}: already imported as {reported}; a correction is posted to the "
        "ledger, not re-imported"
    ]
    assert table_counts() == before
    assert not Unit.objects.filter(uscc=sample_uscc(2)).exists()


# --- rejected files --------------------------------------------------------------------------


def test_a_file_with_bad_rows_writes_nothing_and_names_every_bad_row():
    # given earlier data, and a file whose rows each break one rule (a blank line in between)
    import_rows([ArrearsRowFactory(unit_no=90, person_no=90)])
    before = table_counts()
    good = ArrearsRowFactory(unit_no=1, person_no=1)
    bad_uscc = sample_uscc(2)[:-1] + ("0" if sample_uscc(2)[-1] != "0" else "1")
    bad_id = sample_id_number(3, region_code="110101")[:-1] + (
        "0" if sample_id_number(3, region_code="110101")[-1] != "0" else "1"
    )
    rows = [
        good,  # line 2
        ArrearsRowFactory(unit_no=2, unit_uscc=bad_uscc),  # 3
        ArrearsRowFactory(unit_no=3, id_number=bad_id),  # 4
        ArrearsRowFactory(unit_no=4, region_code="31010", unit_uscc=sample_uscc(4)),  # 5
        ArrearsRowFactory(unit_no=5, period="2026-04"),  # 6
        ArrearsRowFactory(unit_no=6, period="2025-13"),  # 7
        ArrearsRowFactory(unit_no=7, unit_name=""),  # 8
        ArrearsRowFactory(unit_no=8, person_name=""),  # 9
        ArrearsRowFactory(unit_no=9, base="0"),  # 10
        ArrearsRowFactory(unit_no=10, employer_amount="-5.00"),  # 11
        ArrearsRowFactory(unit_no=11, employee_amount="12.345"),  # 12
        ArrearsRowFactory(unit_no=12, employer_amount="0.00", employee_amount="0"),  # 13
        ArrearsRowFactory(unit_no=13, due_date="2026-02-30"),  # 14
        ArrearsRowFactory(unit_no=14, due_date="15/01/2026"),  # 15
        [""] * len(COLUMNS),  # 16: blank, skipped but counted
        good,  # 17: the same unit, period and person as line 2
        ArrearsRowFactory(unit_no=15, base="8,000"),  # 18
        [sample_uscc(16), "单位16有限公司", "310101"],  # 19: too few values
    ]

    # when it is imported
    errors = rejected(rows)

    # then every bad row is named as `line N: column: reason`, and nothing was written
    assert [str(e) for e in errors] == [
        f"line 3: unit_uscc: {reason_of(validate_uscc, bad_uscc)}",
        f"line 4: id_number: {reason_of(validate_id_number, bad_id)}",
        f"line 5: region_code: {reason_of(validate_region_code, '31010')}",
        "line 6: period: 2026-04 is in the future",
        "line 7: period: '2025-13' is not a period (YYYY-MM)",
        "line 8: unit_name: must not be empty",
        "line 9: person_name: must not be empty",
        "line 10: base: must be greater than 0",
        "line 11: employer_amount: must not be negative",
        "line 12: employee_amount: '12.345' has more than 2 decimals",
        "line 13: employee_amount: both portions are 0",
        "line 14: due_date: '2026-02-30' is not a real date",
        "line 15: due_date: '15/01/2026' is not a date (YYYY-MM-DD)",
        "line 17: id_number: the same unit, period and person as line 2",
        "line 18: base: '8,000' is not an amount (digits with at most 2 decimals)",
        "line 19: row: 3 values, 10 expected",
    ]
    assert table_counts() == before


def test_rows_of_one_unit_or_person_that_disagree_are_refused():
    # given rows of unit 1 with another name and another region, and person 1 with another name
    rows = [
        ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11"),
        ArrearsRowFactory(unit_no=1, person_no=2, unit_name="别的名字"),
        ArrearsRowFactory(unit_no=2, person_no=1, person_name="另一个人"),
        ArrearsRowFactory(unit_no=1, person_no=3, region_code="310104", unit_uscc=sample_uscc(1)),
    ]

    # when / then
    assert [str(e) for e in rejected(rows)] == [
        "line 3: unit_name: differs from line 2 for the same unit",
        "line 4: person_name: differs from line 2 for the same person",
        "line 5: region_code: differs from line 2 for the same unit",
    ]
    assert table_counts()["units.Unit"] == 0


def test_a_file_with_the_wrong_header_is_refused():
    # given the columns in another order
    header = ["unit_name", "unit_uscc", *COLUMNS[2:]]
    stream = arrears_csv([ArrearsRowFactory()], header=header)

    # when / then
    with pytest.raises(FileRejected) as refusal:
        arrears_import(file=stream, file_name="x.csv", actor=SYSTEM, today=IMPORT_DAY)
    assert [str(e) for e in refusal.value.errors] == [
        f"line 1: header: expected columns {','.join(COLUMNS)}; got {','.join(header)}"
    ]
    assert table_counts()["replenish.ImportBatch"] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "line 1: header: the file is empty"),
        (",".join(COLUMNS).encode() + b"\n", "line 2: row: the file has no data rows"),
        (
            b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\n\n",
            "line 2: row: the file has no data rows",
        ),
    ],
    ids=["empty", "header-only", "bom-header-and-blank-line"],
)
def test_a_file_without_data_rows_is_refused(content, expected):
    # given / when
    with pytest.raises(FileRejected) as refusal:
        arrears_import(file=io.BytesIO(content), file_name="x.csv", actor=SYSTEM, today=IMPORT_DAY)

    # then
    assert [str(e) for e in refusal.value.errors] == [expected]
    assert sum(table_counts().values()) == 0


def test_a_utf8_byte_order_mark_is_accepted():
    # given / when
    result = import_rows([ArrearsRowFactory(unit_no=1, person_no=1)], bom=True)

    # then
    assert result.lines_created == 1
    assert Unit.objects.get().uscc == sample_uscc(1)


def test_a_letter_first_uscc_and_an_id_number_newer_than_its_holder_are_accepted():
    # given a rural collective (N2…) and a person born before 2001 whose number carries the address
    # code 110115 (Daxing district, created in 2001): both refused by python-stdnum
    from stdnum.cn import ric
    from stdnum.cn import uscc as stdnum_uscc

    collective = sample_uscc(5, region_code="310112", kind="N2")
    villager = sample_id_number(300, region_code="110115")
    assert collective.startswith("N2") and not stdnum_uscc.is_valid(collective)
    assert villager[6:10] < "2001" and not ric.is_valid(villager)

    # when
    result = import_rows(
        [
            ArrearsRowFactory(
                unit_uscc=collective,
                unit_name="闵行区七宝镇联明村股份经济合作社",
                region_code="310112",
                id_number=villager,
            )
        ]
    )

    # then
    assert result.lines_created == 1
    line = ArrearsLine.objects.select_related("case__unit", "person").get()
    assert (line.case.unit.uscc, line.person.id_number, line.case.region_code) == (
        collective,
        villager,
        "310112",
    )
    assert ledger_differences() == []


def test_a_period_of_the_current_month_is_accepted_and_the_next_is_not():
    # given / when / then
    assert import_rows([ArrearsRowFactory(period="2026-03")]).lines_created == 1
    assert [str(e) for e in rejected([ArrearsRowFactory(period="2026-04")])] == [
        "line 2: period: 2026-04 is in the future"
    ]


# --- scale -----------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_number_of_lines():
    # given a small and a large file, for different units
    small = generated_rows(100, first_unit=1)
    large = generated_rows(10_000, first_unit=1_000)

    # when each is imported
    with CaptureQueriesContext(connection) as small_queries:
        import_rows(small)
    with CaptureQueriesContext(connection) as large_queries:
        result = import_rows(large)

    # then both took the same statements
    assert result.lines_created == 10_000
    assert result.cases_opened == 200
    assert len(large_queries) == len(small_queries)


# --- idempotence, for any valid file ---------------------------------------------------------

amounts = st.integers(min_value=0, max_value=2_000_000).map(
    lambda fen: f"{fen // 100}.{fen % 100:02d}"
)


@st.composite
def arrears_files(draw):
    keys = draw(
        st.lists(
            st.tuples(
                st.integers(1, 3),
                st.integers(1, 5),
                st.sampled_from(["2025-10", "2025-11", "2025-12"]),
            ),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    rows = []
    for unit_no, person_no, period in keys:
        employer, employee = draw(amounts), draw(amounts)
        if D(employer) == 0 and D(employee) == 0:
            employee = "0.01"
        rows.append(
            ArrearsRowFactory.build(
                unit_no=unit_no,
                person_no=person_no,
                period=period,
                employer_amount=employer,
                employee_amount=employee,
            )
        )
    return rows


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=arrears_files())
def test_any_valid_file_imports_once_and_reimports_as_nothing(rows):
    with transaction.atomic():
        # given / when a valid file is imported
        first = import_rows(rows)
        counts = table_counts()

        # then one line and one assessed entry per row, and each case owes the sum of its rows
        assert first.lines_created == len(rows) == counts["replenish.LedgerEntry"]
        assert LedgerEntry.objects.exclude(kind=LedgerKind.ASSESSED).count() == 0
        expected: dict[str, Decimal] = {}
        for row in rows:
            expected[row.unit_uscc] = (
                expected.get(row.unit_uscc, D("0"))
                + D(row.employer_amount)
                + D(row.employee_amount)
            )
        assert dict(ArrearsCase.objects.values_list("unit__uscc", "principal_unpaid")) == expected

        # when it is imported again
        again = import_rows(rows)

        # then nothing is added
        assert (again.lines_created, again.lines_skipped, again.cases_opened) == (0, len(rows), 0)
        assert again.batch_id is None
        assert table_counts() == counts
        assert ledger_differences() == []
        transaction.set_rollback(True)


def test_an_import_needs_the_permission_to_add_lines():
    from django.core.exceptions import PermissionDenied

    from tests.factories import UserFactory

    # given a staff user without `add_arrearsline`, and one with it
    clerk = UserFactory()
    importer = UserFactory(permissions=["replenish.add_arrearsline"])

    # when / then
    with pytest.raises(PermissionDenied):
        import_rows([ArrearsRowFactory()], actor=clerk)
    assert table_counts()["replenish.ArrearsLine"] == 0
    import_rows([ArrearsRowFactory()], actor=importer)
    assert LedgerEntry.objects.get().actor == importer
    assert AuditEntry.objects.get().actor_label == importer.username
    assert ArrearsCase.objects.get().state == CaseState.REGISTERED
