"""`manage.py export_cases [--date] [FILE]`: the case export of docs/formats.md."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notices.services import case_issue_notice
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_auction,
    unit_record_bankruptcy,
    unit_record_merger,
    unit_record_split,
)
from tests.factories import SYSTEM, ArrearsCaseFactory, ArrearsRowFactory, case_of, import_rows
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
HEADER = "case_no,unit_uscc,obligor,state,principal,late_fee,paid,written_off,balance\n"


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_cases", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def cases():
    """Unit 1 owes 1,000.00 due 2026-01-15 and twice 10.00 due 2026-02-28; unit 2 owes 700.00
    due 2026-01-15 and has been notified."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=2, person_no=4, employer_amount="500.00"),
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=1, person_no=2, employer_amount="10.00",
                              employee_amount="0.00", due_date="2026-02-28"),
            ArrearsRowFactory(unit_no=1, person_no=3, employer_amount="10.00",
                              employee_amount="0.00", due_date="2026-02-28"),
        ]
    )  # fmt: skip
    case_issue_notice(case_id=case_of(sample_uscc(2)).pk, actor=SYSTEM, issued_on=date(2026, 2, 1))


def test_the_worked_example_rounds_the_fee_per_line_and_sums(cases):
    # given the cases above, as of 2026-03-01:
    #   unit 1: 1,000.00 x 0.0005 x 45 days = 22.50; each 10.00 x 0.0005 x 1 day = 0.005 -> 0.01;
    #           22.52 in all (rounding the exact sum 22.51 would lose a fen)
    #   unit 2: 700.00 x 0.0005 x 45 days = 15.75

    # when
    text = export("--date", "2026-03-01")

    # then
    u1, u2 = sample_uscc(1), sample_uscc(2)
    assert text == (
        HEADER
        + f"AC2026-0000001,{u1},{u1},registered,1020.00,22.52,0.00,0.00,1042.52\n"
        + f"AC2026-0000002,{u2},{u2},notified,700.00,15.75,0.00,0.00,715.75\n"
    )


def test_rows_are_ordered_by_case_number_and_a_case_owing_nothing_shows_zeros(cases):
    # given a case without lines, numbered after the imported ones
    empty = ArrearsCaseFactory(case_no="AC2026-0000900")
    uscc = empty.unit.uscc

    # when
    lines = export("--date", "2026-01-15").splitlines()

    # then (on the due date itself no late fee has accrued yet)
    assert [line.split(",")[0] for line in lines] == [
        "case_no",
        "AC2026-0000001",
        "AC2026-0000002",
        "AC2026-0000900",
    ]
    assert lines[1].endswith(",registered,1020.00,0.00,0.00,0.00,1020.00")
    assert lines[3] == f"AC2026-0000900,{uscc},{uscc},registered,0.00,0.00,0.00,0.00,0.00"


def test_writing_to_a_file_gives_the_same_text_as_standard_output(cases, tmp_path):
    # given
    path = tmp_path / "cases.csv"
    err = io.StringIO()

    # when
    call_command(
        "export_cases", "--date", "2026-03-01", str(path), stdout=io.StringIO(), stderr=err
    )

    # then
    assert path.read_text(encoding="utf-8") == export("--date", "2026-03-01")
    assert err.getvalue() == f"2 cases written to {path}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cases.csv"]


def test_without_a_date_the_amounts_are_as_of_today(cases):
    assert export() == export("--date", timezone.localdate().isoformat())


def test_an_empty_database_exports_the_header_only(db):
    assert export("--date", "2026-03-01") == HEADER


@pytest.mark.parametrize("value", ["2026-13-01", "01/03/2026", ""])
def test_a_bad_date_is_a_clean_error(value):
    with pytest.raises(CommandError, match=r"is not a date \(YYYY-MM-DD\)"):
        export("--date", value)


def test_a_file_in_a_missing_directory_is_a_clean_error(tmp_path):
    with pytest.raises(CommandError, match="no such directory"):
        export(str(tmp_path / "missing" / "cases.csv"))


def test_the_obligor_is_whoever_owes_the_case_now(db):
    # given four units: merged, split in two, bankrupt (the group has no code), auctioned
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3, 4, 5)])
    unit_of = {n: case_of(sample_uscc(n)).unit_id for n in (1, 2, 3, 4)}
    document = EventDocument(occurred_on=date(2026, 2, 20))
    on = date(2026, 3, 1)
    unit_record_merger(
        unit_id=unit_of[1],
        merging_party=Party(name="甲", uscc=sample_uscc(61)),
        document=document,
        actor=SYSTEM,
        today=on,
    )
    unit_record_split(
        unit_id=unit_of[2],
        successors=[
            Party(name="乙", uscc=sample_uscc(62), share="1/2"),
            Party(name="丙", uscc=sample_uscc(63), share="1/2"),
        ],
        document=document,
        actor=SYSTEM,
        today=on,
    )
    unit_record_bankruptcy(
        unit_id=unit_of[3],
        court="法院",
        court_case_no="(2026)破1号",
        accepted_on=date(2026, 2, 10),
        liquidation_group=Party(name="单位3有限公司清算组", head="李"),
        actor=SYSTEM,
        today=on,
    )
    unit_record_auction(unit_id=unit_of[4], lease=False,
                        competent_authority=Party(name="区国资委", uscc=sample_uscc(64, kind="12")),
                        document=document, actor=SYSTEM, today=on)  # fmt: skip

    # when
    rows = [line.split(",")[:4] for line in export("--date", "2026-03-01").splitlines()[1:]]

    # then: the unit stays, the obligor is who owes now (by name where it has no code)
    u = {n: sample_uscc(n) for n in range(1, 6)}
    assert rows == [
        ["AC2026-0000001", u[1], sample_uscc(61), "registered"],
        ["AC2026-0000002", u[2], u[2], "transferred"],
        ["AC2026-0000003", u[3], "单位3有限公司清算组", "registered"],
        ["AC2026-0000004", u[4], sample_uscc(64, kind="12"), "registered"],
        ["AC2026-0000005", u[5], u[5], "registered"],
        ["AC2026-0000006", u[2], sample_uscc(62), "registered"],
        ["AC2026-0000007", u[2], sample_uscc(63), "registered"],
    ]
