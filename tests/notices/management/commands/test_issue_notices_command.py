"""`manage.py issue_notices [--date]`: bulk notices, one output line per notice."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notices.models import Notice
from replenish.models import ArrearsCase, CaseState
from tests.factories import ArrearsRowFactory, import_rows, table_counts

pytestmark = pytest.mark.django_db


def issue_notices(*args) -> str:
    out = io.StringIO()
    call_command("issue_notices", *args, stdout=out)
    return out.getvalue()


def test_prints_case_number_notice_number_and_total_per_notice_and_nothing_the_second_time():
    # given two registered cases: 1,000.00 and 1,250.00, due 2026-01-15
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=2, person_no=2, employer_amount="1050.00"),
        ]
    )

    # when notices are issued on 2026-03-01 (45 days: 22.50 and 28.125 -> 28.13)
    output = issue_notices("--date", "2026-03-01")

    # then
    lines = output.splitlines()
    assert [line.split(",")[0] for line in lines] == ["AC2026-0000001", "AC2026-0000002"]
    assert sorted(line.split(",", 1)[1] for line in lines) == sorted(
        [
            f"{Notice.objects.get(case__case_no='AC2026-0000001').number},1022.50",
            f"{Notice.objects.get(case__case_no='AC2026-0000002').number},1278.13",
        ]
    )
    assert sorted(Notice.objects.values_list("number", flat=True)) == [
        "N310101-2026-000001",
        "N310101-2026-000002",
    ]
    assert set(Notice.objects.values_list("issued_on", flat=True)) == {date(2026, 3, 1)}
    assert set(ArrearsCase.objects.values_list("state", flat=True)) == {CaseState.NOTIFIED}

    # when issued again / then nothing is printed or written
    before = table_counts()
    assert issue_notices("--date", "2026-03-02") == ""
    assert table_counts() == before


def test_without_a_date_the_notices_are_dated_today():
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])

    # when
    output = issue_notices()

    # then
    today = timezone.localdate()
    notice = Notice.objects.get()
    assert notice.issued_on == today
    assert output == f"AC2026-0000001,N310101-{today.year}-000001,{notice.total}\n"


def test_a_bad_date_is_a_clean_error():
    with pytest.raises(CommandError, match=r"'2026-02-30' is not a date \(YYYY-MM-DD\)"):
        issue_notices("--date", "2026-02-30")
