"""`manage.py run_daily [--date]`: notice deadlines passed make cases overdue, idempotently."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from notices.services import case_issue_notice
from replenish.models import ArrearsCase, AuditEntry, CaseState
from tests.factories import SYSTEM, ArrearsRowFactory, case_of, deliver, import_rows
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


def run_daily(*args) -> str:
    out = io.StringIO()
    call_command("run_daily", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def notified():
    """Two notified cases: unit 1's notice issued and delivered on 2026-03-02, unit 2's on
    2026-03-03, and a registered case of unit 3. Returns the two notices."""
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)])
    return tuple(
        deliver(
            case_issue_notice(case_id=case_of(sample_uscc(n)).pk, actor=SYSTEM, issued_on=day),
            day,
        )
        for n, day in ((1, date(2026, 3, 2)), (2, date(2026, 3, 3)))
    )


def states() -> dict[str, str]:
    return dict(ArrearsCase.objects.values_list("unit__uscc", "state"))


def test_a_case_whose_deadline_passed_becomes_overdue_and_one_due_today_stays_notified(notified):
    # given unit 1's deadline is the day before the run and unit 2's is the day of the run
    first, second = notified
    assert second.deadline == first.deadline + timedelta(days=1)
    audits = AuditEntry.objects.count()

    # when
    output = run_daily("--date", second.deadline.isoformat())

    # then
    lines = output.splitlines()
    assert lines[0] == f"{second.deadline}: 1 case(s) overdue (notice deadline passed)"
    assert (
        f"{second.deadline}: 0 arrival(s) posted, 0.00 applied, 0.00 kept as credit, "
        "0 case(s) settled" in lines
    )
    assert states() == {
        sample_uscc(1): CaseState.OVERDUE,
        sample_uscc(2): CaseState.NOTIFIED,
        sample_uscc(3): CaseState.REGISTERED,
    }
    assert list(
        AuditEntry.objects.order_by("id")[audits:].values_list(
            "case_id", "subject", "transition", "from_state", "to_state", "actor_label", "reason"
        )
    ) == [
        (
            first.case_id,
            "case",
            "deadline_pass",
            "notified",
            "overdue",
            "system:run_daily",
            f"notice deadline passed unpaid (as of {second.deadline})",
        )
    ]


def test_running_twice_for_the_same_date_changes_nothing_the_second_time(notified):
    # given a first run
    _first, second = notified
    day = (second.deadline + timedelta(days=1)).isoformat()
    nothing_posted = (
        f"{day}: 0 arrival(s) posted, 0.00 applied, 0.00 kept as credit, 0 case(s) settled"
    )
    first_run = run_daily("--date", day).splitlines()
    assert first_run[0] == f"{day}: 2 case(s) overdue (notice deadline passed)"
    assert nothing_posted in first_run
    audits = AuditEntry.objects.count()
    after_first = states()

    # when
    output = run_daily("--date", day)

    # then
    assert output.splitlines()[0] == f"{day}: 0 case(s) overdue (notice deadline passed)"
    assert nothing_posted in output.splitlines()
    assert output.splitlines()[-1] == f"{day}: 0 reminder(s) sent"
    assert AuditEntry.objects.count() == audits
    assert states() == after_first


def test_a_case_reissued_a_notice_is_judged_by_its_current_notice(notified):
    # given unit 1's case went overdue and got a new notice
    first, _second = notified
    run_daily("--date", (first.deadline + timedelta(days=1)).isoformat())
    renewed = case_issue_notice(case_id=first.case_id, actor=SYSTEM, issued_on=date(2026, 4, 1))
    renewed = deliver(renewed, date(2026, 4, 2))

    # when the day after the old deadline comes round again, but before the new one
    run_daily("--date", renewed.deadline.isoformat())

    # then the superseded notice does not make it overdue
    assert states()[sample_uscc(1)] == CaseState.NOTIFIED


def test_a_bad_date_is_a_clean_error():
    with pytest.raises(CommandError, match=r"'tomorrow' is not a date \(YYYY-MM-DD\)"):
        run_daily("--date", "tomorrow")


def test_a_notice_not_yet_delivered_has_no_deadline_and_its_case_never_goes_overdue():
    # given a notice issued long ago but never delivered
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case_issue_notice(case_id=case_of(sample_uscc(1)).pk, actor=SYSTEM, issued_on=date(2026, 3, 2))

    # when the daily run comes months later
    run_daily("--date", "2026-09-01")

    # then the time limit has not started, so it has not passed either
    assert states()[sample_uscc(1)] == CaseState.NOTIFIED
