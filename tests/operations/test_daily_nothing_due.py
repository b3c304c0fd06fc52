"""The daily run with nothing due costs the same whatever the number of installments and notices
already reminded of: the scheduler leaves out, in SQL, the anchors whose reminder exists (issue
21), instead of offering every one of them to the database again."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notices.models import Notification, Reminder
from notices.reminders import reminders_schedule
from notices.services import case_issue_notice
from operations.daily import daily_run
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase
from replenish.services.agreements import agreement_draft, agreement_sign
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    case_of,
    deliver,
    department_user,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db

# The first run schedules (and sends) every reminder due by 27 March; the run of 27 March then
# has nothing new: the installments' 7-days-before reminders (1 April) exist already, the
# 1-day-before and overdue ones are not due yet, the notices' overdue reminders exist already.
FIRST, NEXT = date(2026, 3, 26), date(2026, 3, 27)


def grow(start: int, size: int) -> None:
    """`size` units from unit `start` with a notice delivered on 4 March (deadline 11 March),
    and `size` more units with an agreement signed on 1 March in 3 installments (the first due
    1 April)."""
    notices = range(start, start + size)
    agreements = range(start + size, start + 2 * size)
    import_rows([ArrearsRowFactory(unit_no=n, person_no=1) for n in [*notices, *agreements]])
    for n in notices:
        issued = case_issue_notice(
            case_id=case_of(sample_uscc(n)).pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
        )
        deliver(issued, date(2026, 3, 4))
    officer = department_user(COLLECTION, f"officer{start}")
    for n in agreements:
        draft = agreement_draft(
            case_id=case_of(sample_uscc(n)).pk,
            installment_count=3,
            actor=officer,
            drafted_on=date(2026, 3, 1),
        )
        agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=date(2026, 3, 1))


def nothing_due_run() -> tuple[int, list[str], int]:
    """The queries of a run of 27 March with nothing due, the reminder rows it wrote, and the
    anchors the scheduler still sees afterwards (nothing changes either)."""
    reminders, notifications = Reminder.objects.count(), Notification.objects.count()
    with CaptureQueriesContext(connection) as queries:
        daily_run(as_of=NEXT)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "notices_reminder" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert (Reminder.objects.count(), Notification.objects.count()) == (reminders, notifications)
    seen = reminders_schedule(as_of=NEXT, due_by=NEXT + timedelta(days=1))
    return len(queries.captured_queries), writes, seen


def test_a_run_with_nothing_due_costs_the_same_for_1_or_5_notices_and_agreements():
    # given 1 notice and 1 agreement reminded of by the run of 26 March, and the run of
    # 27 March done (its per-day work, such as the paid-month batch, is done once)
    grow(1, 1)
    daily_run(as_of=FIRST)
    daily_run(as_of=NEXT)

    # when the run of 27 March runs again with nothing due
    small, small_writes, small_seen = nothing_due_run()

    # and 4 more of each are reminded of (the run of 26 March again), then the same run
    grow(3, 4)
    daily_run(as_of=FIRST)
    large, large_writes, large_seen = nothing_due_run()

    # then the region's reminders are there: the notices' approaching (scheduled at delivery)
    # and overdue reminders, the first installments' 7-days-before reminders
    assert Reminder.objects.filter(subject="notice").count() == 2 * 5
    assert Reminder.objects.filter(rule__code="installment_due_7").count() == 5
    assert ArrearsCase.objects.filter(state="overdue").count() == 5
    # and none is offered to the database again, and the run costs as many queries on both
    assert (small_writes, small_seen) == ([], 0)
    assert (large_writes, large_seen) == ([], 0)
    assert large == small


def test_the_scheduler_reads_its_anchors_without_a_server_side_cursor(monkeypatch):
    # given the notices and agreements of a first run, so that each source finds anchors (a
    # delivery schedules its notice's own reminders at once)
    grow(1, 2)
    before = Reminder.objects.count()

    def no_cursor_of_chunks():
        raise AssertionError("an anchor read through `.iterator()` (a server-side cursor)")

    # when the first run's reminders are scheduled with `.iterator()`'s cursor refused
    monkeypatch.setattr(connection, "chunked_cursor", no_cursor_of_chunks)
    seen = reminders_schedule(as_of=FIRST, due_by=FIRST + timedelta(days=1))

    # then every anchor was read, and scheduled
    assert seen > 0
    assert Reminder.objects.count() == before + seen
