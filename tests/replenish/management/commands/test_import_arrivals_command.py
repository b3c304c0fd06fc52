"""`manage.py import_arrivals FILE [--preview]`: the command around `arrivals_import`."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from replenish.models import Arrival, ArrivalState
from tests.factories import (
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    arrivals_csv,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
TODAY = str(timezone.localdate())


def write(tmp_path, rows):
    path = tmp_path / "arrivals.csv"
    path.write_bytes(arrivals_csv(rows).getvalue())
    return path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_arrivals", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_valid_file_is_imported_and_summarised_and_a_re_sent_one_adds_nothing(tmp_path):
    # given unit 1 with a case, and a file paying it and paying from an unknown payer
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    path = write(
        tmp_path,
        [
            ArrivalRowFactory(arrival_ref="B1", unit_no=1, arrived_on=TODAY),
            ArrivalRowFactory(arrival_ref="B2", unit_no=7, arrived_on=TODAY),
        ],
    )

    # when / then
    assert run(path) == (
        "2 rows: 2 arrivals received (1 matched, 1 unmatched), 0 already received\n",
        "",
    )
    assert dict(Arrival.objects.values_list("arrival_ref", "state")) == {
        "B1": ArrivalState.MATCHED,
        "B2": ArrivalState.UNMATCHED,
    }
    assert run(path)[0] == (
        "2 rows: 0 arrivals received (0 matched, 0 unmatched), 2 already received\n"
    )
    assert Arrival.objects.count() == 2


def test_the_preview_says_row_by_row_what_would_happen_and_writes_nothing(tmp_path):
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    path = write(tmp_path, [ArrivalRowFactory(arrival_ref="B2", unit_no=7, arrived_on=TODAY)])
    before = all_table_counts()

    # when
    out, _err = run(path, "--preview")

    # then
    assert out == (
        f"line 2: B2 100.00 from {sample_uscc(7)}: unmatched (the payer is not a known unit), "
        "waits for finance\n"
        "preview, nothing written: 1 rows: 1 arrivals received (0 matched, 1 unmatched), "
        "0 already received\n"
    )
    assert all_table_counts() == before


def test_a_file_with_bad_rows_exits_non_zero_with_every_bad_row_on_stderr(tmp_path):
    # given
    path = write(
        tmp_path,
        [
            ArrivalRowFactory(arrival_ref="B1", amount="0"),
            ArrivalRowFactory(arrival_ref="B2", arrived_on="2999-01-01"),
            ArrivalRowFactory(arrival_ref="B1"),
        ],
    )
    err = io.StringIO()

    # when
    with pytest.raises(CommandError) as failure:
        call_command("import_arrivals", str(path), stdout=io.StringIO(), stderr=err)

    # then
    assert failure.value.returncode == 1
    assert str(failure.value) == "the file was rejected (3 error(s)); nothing was written"
    assert err.getvalue() == (
        "line 2: amount: must be greater than 0\n"
        "line 3: arrived_on: 2999-01-01 is in the future\n"
        "line 4: arrival_ref: the same arrival_ref as line 2\n"
    )
    assert sum(all_table_counts().values()) == 0


def test_a_missing_file_is_a_clean_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.csv")
