"""`manage.py import_arrears FILE`: the command around `arrears_import`."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from replenish.models import ArrearsCase
from replenish.services.ledger import ledger_differences
from tests.factories import ArrearsRowFactory, arrears_csv_text, table_counts
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db


def run(path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_arrears", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_valid_file_is_imported_and_summarised(tmp_path):
    # given a file of two units
    path = tmp_path / "arrears.csv"
    path.write_text(
        arrears_csv_text(
            [
                ArrearsRowFactory(unit_no=1, person_no=1),
                ArrearsRowFactory(unit_no=1, person_no=2),
                ArrearsRowFactory(unit_no=2, person_no=1),
            ]
        ),
        encoding="utf-8",
    )

    # when
    out, err = run(path)

    # then
    assert out == (
        "3 rows: 3 lines imported, 0 already imported, 2 cases opened, 2 units created\n"
    )
    assert err == ""
    year = timezone.localdate().year
    assert list(ArrearsCase.objects.values_list("case_no", flat=True)) == [
        f"AC{year}-0000001",
        f"AC{year}-0000002",
    ]

    # when the same file comes again / then nothing is added
    assert run(path)[0] == (
        "3 rows: 0 lines imported, 3 already imported, 0 cases opened, 0 units created\n"
    )
    assert ArrearsCase.objects.count() == 2


def test_a_file_with_bad_rows_exits_non_zero_with_every_bad_row_on_stderr(tmp_path):
    # given a file with two bad rows among good ones
    path = tmp_path / "arrears.csv"
    path.write_text(
        arrears_csv_text(
            [
                ArrearsRowFactory(unit_no=1, person_no=1),
                ArrearsRowFactory(unit_no=2, base="0"),
                ArrearsRowFactory(unit_no=3, person_no=3),
                ArrearsRowFactory(unit_no=4, employee_amount="1.001"),
            ]
        ),
        encoding="utf-8",
    )
    err = io.StringIO()

    # when
    with pytest.raises(CommandError) as failure:
        call_command("import_arrears", str(path), stdout=io.StringIO(), stderr=err)

    # then
    assert failure.value.returncode == 1
    assert str(failure.value) == "the file was rejected (2 error(s)); nothing was written"
    assert err.getvalue() == (
        "line 3: base: must be greater than 0\n"
        "line 5: employee_amount: '1.001' has more than 2 decimals\n"
    )
    assert sum(table_counts().values()) == 0


def test_a_missing_file_is_a_clean_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.csv")


def test_a_letter_first_uscc_and_an_id_number_newer_than_its_holder_go_through(tmp_path):
    # given a rural collective (N2…) employing someone born before 2001 whose number has the
    # address code of Beijing's Daxing district (110115, created 2001), in a file with a BOM
    collective = sample_uscc(5, region_code="310112", kind="N2")
    villager = sample_id_number(300, region_code="110115")
    assert villager[6:10] < "2001"
    path = tmp_path / "arrears.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + arrears_csv_text(
            [ArrearsRowFactory(unit_uscc=collective, region_code="310112", id_number=villager)]
        ).encode("utf-8")
    )

    # when
    out, _err = run(path)

    # then
    assert out.startswith("1 rows: 1 lines imported")
    case = ArrearsCase.objects.select_related("unit").get()
    assert (case.unit.uscc, case.lines.get().person.id_number) == (collective, villager)
    assert ledger_differences() == []
