"""The holiday calendar staff keep (issue 19, part 6): a holiday or a make-up working day
announced after the maintained calendar's release counts in every deadline; a day the other way
round is refused and changes nothing; who changed what is recorded. And collection's queue of
notices issued and not delivered after NOTICE_UNDELIVERED_WORKING_DAYS working days agrees with
the list it opens."""

from datetime import date, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.queues import queue
from notices.deadlines import (
    add_working_days,
    calendar_exception_remove,
    calendar_exception_save,
    is_working_day,
    library_says,
    working_days_back,
)
from notices.models import CalendarException
from notices.printing import notices_undelivered_late
from notices.services import case_issue_notice
from replenish.departments import COLLECTION, FINANCE
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


def a_weekday_the_library_counts(after: date) -> date:
    day = after
    while day.weekday() >= 5 or not library_says(day):
        day += timedelta(days=1)
    return day


def a_weekend_day_the_library_rests(after: date) -> date:
    day = after
    while day.weekday() < 5 or library_says(day):
        day += timedelta(days=1)
    return day


def test_a_holiday_staff_add_is_skipped_by_every_deadline():
    # given a Monday-to-Friday day the maintained calendar counts as a working day (2027)
    holiday = a_weekday_the_library_counts(date(2027, 6, 7))
    before = add_working_days(holiday - timedelta(days=1), 1)
    assert before == holiday

    # when collection records it as a holiday
    calendar_exception_save(
        day=holiday,
        working=False,
        name="2027年端午节",
        source="国办发明电〔2026〕7号",
        actor=SYSTEM,
    )

    # then it is a day off, and a deadline counted over it moves past it
    assert not is_working_day(holiday)
    assert add_working_days(holiday - timedelta(days=1), 1) > holiday


def test_a_make_up_working_day_counts():
    saturday = a_weekend_day_the_library_rests(date(2027, 9, 1))
    friday = saturday - timedelta(days=1)
    counted_before = add_working_days(friday, 1)

    calendar_exception_save(
        day=saturday, working=True, name="2027年国庆节调休", source="", actor=SYSTEM
    )

    assert is_working_day(saturday)
    assert add_working_days(friday, 1) == saturday < counted_before
    assert working_days_back(counted_before, 1) == saturday


@pytest.mark.parametrize(
    ("day", "working", "name", "field", "message"),
    [
        (date(2027, 6, 8), True, "调休", "working", "2027-06-08 is a weekday"),
        (date(2027, 6, 12), False, "假日", "working", "2027-06-12 is a Saturday or Sunday"),
        (date(2027, 6, 8), False, "  ", "name", "Name the holiday"),
    ],
)
def test_a_day_the_other_way_round_or_unnamed_is_refused_and_changes_nothing(
    day, working, name, field, message
):
    with pytest.raises(ValidationError) as refused:
        calendar_exception_save(day=day, working=working, name=name, source="", actor=SYSTEM)
    assert refused.value.message_dict[field][0].startswith(message)
    assert not CalendarException.objects.exists()


def test_a_day_is_in_the_calendar_once_and_only_collection_keeps_it():
    day = date(2027, 6, 8)
    calendar_exception_save(day=day, working=False, name="假日", source="", actor=SYSTEM)
    with pytest.raises(ValidationError):
        calendar_exception_save(day=day, working=False, name="又一个", source="", actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        calendar_exception_save(
            day=date(2027, 6, 9),
            working=False,
            name="假日",
            source="",
            actor=department_user(FINANCE, "cashier"),
        )
    assert list(CalendarException.objects.values_list("name", flat=True)) == ["假日"]
    calendar_exception_remove(pk=CalendarException.objects.get().pk, actor=SYSTEM)
    assert is_working_day(day) == library_says(day)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 1)),
    days=st.integers(0, 40),
)
def test_counting_back_undoes_counting_forward(start, days):
    end = add_working_days(start, days)
    assert working_days_back(end, days) <= start
    if days:
        assert is_working_day(end)
        # the last working day before `start`, or `start` itself when it is one, is where the
        # count back lands
        landed = working_days_back(end, days)
        assert landed == start or (
            landed < start
            and not any(
                is_working_day(landed + timedelta(days=n))
                for n in range(1, (start - landed).days + 1)
            )
        )


def test_the_admin_records_who_changed_what_and_shows_a_refusal_in_chinese(client):
    clerk = department_user(COLLECTION, "clerk")
    client.force_login(clerk)
    url = reverse("admin:notices_calendarexception_add")

    refused = client.post(url, {"day": "2027-06-08", "working": "on", "name": "调休", "source": ""})
    assert refused.status_code == 200
    assert "补班日" in refused.content.decode() or "调休上班" in refused.content.decode()
    assert not CalendarException.objects.exists()

    saved = client.post(
        url, {"day": "2027-06-12", "working": "on", "name": "端午调休", "source": "国办"}
    )
    assert saved.status_code == 302
    entry = CalendarException.objects.get()
    assert (entry.day, entry.working, entry.changed_by) == (date(2027, 6, 12), True, "clerk")
    assert LogEntry.objects.filter(object_id=str(entry.pk), user=clerk).exists()
    listing = client.get(reverse("admin:notices_calendarexception_changelist")).content.decode()
    assert "端午调休" in listing


def test_the_undelivered_notices_queue_is_what_its_list_shows(client):
    # given three notices: issued long ago, issued yesterday, delivered
    today = timezone.localdate()  # the queue's day, as on the clerk's screen
    import_rows(
        [ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)],
        today=today - timedelta(days=30),
    )
    long_ago = working_days_back(today, 6)
    recently = working_days_back(today, 1)
    late, fresh, delivered = (
        case_issue_notice(case_id=case_of(sample_uscc(n)).pk, actor=SYSTEM, issued_on=on)
        for n, on in ((1, long_ago), (2, recently), (3, long_ago))
    )
    deliver(delivered, long_ago + timedelta(days=1))

    # then only the notice issued more than 5 working days ago and not delivered is waiting
    assert list(notices_undelivered_late(today).values_list("pk", flat=True)) == [late.pk]
    shown = queue("notices_undelivered")
    client.force_login(department_user(COLLECTION, "clerk"))
    listing = client.get(shown.url()).content.decode()
    assert late.number in listing
    assert fresh.number not in listing and delivered.number not in listing
