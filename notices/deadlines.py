"""Working days in mainland China: public holidays and the make-up working days (调休) that the
State Council announces each year, from the maintained `holidays` calendar, corrected and
extended by the days staff keep in the holiday calendar (`CalendarException`: a year announced
after the library's release, such as the 2027 schedule). Every deadline counts through here."""

from datetime import date, timedelta
from functools import cache

import holidays
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, require_permission
from notices.models import CalendarException

# The exceptions are read for a window of days at a time: one query per deadline.
WINDOW = timedelta(days=120)


@cache
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def _exceptions(first: date, last: date) -> dict[date, bool]:
    return dict(
        CalendarException.objects.filter(day__range=(first, last)).values_list("day", "working")
    )


def _library_says(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


def is_working_day(day: date) -> bool:
    exceptions = _exceptions(day, day)
    return exceptions.get(day, _library_says(day))


def _count(start: date, days: int, step: int) -> date:
    """The date `days` working days after (step 1) or before (step -1) `start`, which itself
    does not count."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, remaining = start, days
    known: dict[date, bool] = {}
    edge = start
    while remaining:
        current += timedelta(days=step)
        if (current > edge) if step > 0 else (current < edge):
            window = (current, current + WINDOW) if step > 0 else (current - WINDOW, current)
            known = _exceptions(*window)
            edge = window[1] if step > 0 else window[0]
        if known.get(current, _library_says(current)):
            remaining -= 1
    return current


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start itself does not count)."""
    return _count(start, days, 1)


def working_days_back(end: date, days: int) -> date:
    """The date `days` working days before `end` (the end itself does not count)."""
    return _count(end, days, -1)


def calendar_exception_check(*, day: date, working: bool, name: str, pk: int | None = None) -> None:
    """What `calendar_exception_save` refuses: a holiday falls on a weekday and a make-up working
    day on a weekend (the other way round changes nothing), and a day is in the calendar once."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Name the holiday, e.g. Spring Festival 2027.")
    weekend = day.weekday() >= 5
    if working and not weekend:
        errors["working"] = _(
            "%(day)s is a weekday: a make-up working day is a Saturday or Sunday that is worked."
        ) % {"day": day}
    if not working and weekend:
        errors["working"] = _(
            "%(day)s is a Saturday or Sunday, a day off anyway: only a weekday can be a holiday."
        ) % {"day": day}
    same_day = CalendarException.objects.filter(day=day)
    if pk is not None:
        same_day = same_day.exclude(pk=pk)
    if same_day.exists():
        errors["day"] = _("%(day)s is in the calendar already: change that entry.") % {"day": day}
    if errors:
        raise ValidationError(errors)


def calendar_exception_save(
    *, day: date, working: bool, name: str, source: str, actor: Actor, pk: int | None = None
) -> CalendarException:
    """Record (or, with `pk`, change) a holiday or a make-up working day of the holiday
    calendar, as `actor`."""
    require_permission(
        actor, "notices.change_calendarexception" if pk else "notices.add_calendarexception"
    )
    calendar_exception_check(day=day, working=working, name=name, pk=pk)
    name = name.strip()
    with transaction.atomic():
        entry = (
            CalendarException.objects.select_for_update().get(pk=pk) if pk else CalendarException()
        )
        entry.day, entry.working, entry.name = day, working, name
        entry.source = source.strip()
        entry.changed_by = actor_label(actor)
        entry.save()
    return entry


def calendar_exception_remove(*, pk: int, actor: Actor) -> None:
    """Take a day out of the holiday calendar: the maintained calendar says again what it is."""
    require_permission(actor, "notices.delete_calendarexception")
    CalendarException.objects.filter(pk=pk).delete()


def library_says(day: date) -> bool:
    """Whether the maintained calendar alone counts `day` as a working day."""
    return _library_says(day)
