"""The periods of the enforcement steps, each counted the way its law counts it.

- Written demand (催告书): ten days to perform (Administrative Enforcement Law Art. 37 para. 2
  and Art. 54). Art. 69: a period of ten days or less in that law means working days, so it runs
  on the working-day calendar (public holidays and make-up working days, notices.deadlines).
- Administrative reconsideration: 60 days from when the unit knew of the decision (the notice's
  delivery) (Administrative Reconsideration Law Art. 20): calendar days.
- Administrative lawsuit: 6 months from then (Administrative Litigation Law Art. 46): calendar
  months.
- Court application: within 3 months after the reconsideration and lawsuit periods have passed
  (Administrative Enforcement Law Art. 53): calendar months, from the day after the later one
  ends; never before the demand's ten working days have passed (Art. 54).
- Bank reply and guarantee: no statutory period; configured (ENFORCEMENT_BANK_REPLY_WORKING_DAYS,
  ENFORCEMENT_GUARANTEE_WORKING_DAYS), counted in working days like the agency's other limits.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from notices.deadlines import add_working_days

DEMAND_WORKING_DAYS = 10
RECONSIDERATION_DAYS = 60
LAWSUIT_MONTHS = 6
COURT_APPLICATION_MONTHS = 3


def add_months(start: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (a period of
    months ends on the corresponding day, or the last day of a shorter month)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def demand_deadline(served_on: date) -> date:
    return add_working_days(served_on, DEMAND_WORKING_DAYS)


@dataclass(frozen=True)
class CourtWindow:
    reconsideration_ends: date
    lawsuit_ends: date
    opens: date
    closes: date


def court_window(*, notice_delivered_on: date, demand_deadline: date) -> CourtWindow:
    """When the agency may apply to the court: from the day after both the reconsideration and
    lawsuit periods ended (and the demand's time to perform), for three months (Art. 53)."""
    reconsideration_ends = notice_delivered_on + timedelta(days=RECONSIDERATION_DAYS)
    lawsuit_ends = add_months(notice_delivered_on, LAWSUIT_MONTHS)
    periods_end = max(reconsideration_ends, lawsuit_ends)
    opens = max(periods_end, demand_deadline) + timedelta(days=1)
    return CourtWindow(
        reconsideration_ends=reconsideration_ends,
        lawsuit_ends=lawsuit_ends,
        opens=opens,
        closes=add_months(periods_end, COURT_APPLICATION_MONTHS),
    )


def bank_reply_deadline(sent_on: date) -> date:
    return add_working_days(sent_on, settings.ENFORCEMENT_BANK_REPLY_WORKING_DAYS)


def guarantee_deadline(served_on: date) -> date:
    return add_working_days(served_on, settings.ENFORCEMENT_GUARANTEE_WORKING_DAYS)
