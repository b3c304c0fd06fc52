"""`daily_run`: what the scheduler does every day, for one date. Set-based, in bounded batches, and
idempotent: a second run for the same date finds nothing left to do."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement.services import DossierReport, dossiers_follow
from kernel.actors import System
from notices.models import CURRENT_NOTICE_STATES
from notices.reminders import reminders_schedule, reminders_send_due
from replenish.models import ArrearsCase, CaseState, PaidMonthBatch
from replenish.reasons import Reason
from replenish.services.adjustment import AdjustmentReport, adjustments_post
from replenish.services.agreements import agreements_breach_due, agreements_fulfil_due
from replenish.services.records import paid_months_batch_make
from replenish.services.transitions import transition_apply_bulk

DAILY_ACTOR = System("run_daily")


@dataclass
class DailyReport:
    as_of: date
    deadlines_passed: list[int] = field(default_factory=list)
    agreements_fulfilled: list[int] = field(default_factory=list)
    agreements_breached: list[int] = field(default_factory=list)
    adjustments: AdjustmentReport | None = None
    dossiers: DossierReport | None = None
    reminders_sent: int = 0
    paid_months: PaidMonthBatch | None = None

    def lines(self) -> list[str]:
        on = self.as_of
        lines = [
            _("%(on)s: %(n)d case(s) overdue (notice deadline passed)")
            % {"on": on, "n": len(self.deadlines_passed)},
            _("%(on)s: %(n)d agreement(s) fulfilled")
            % {"on": on, "n": len(self.agreements_fulfilled)},
            _(
                "%(on)s: %(n)d agreement(s) breached (installment unpaid %(days)d days after its "
                "due date)"
            )
            % {
                "on": on,
                "n": len(self.agreements_breached),
                "days": settings.INSTALLMENT_GRACE_DAYS,
            },
        ]
        if self.adjustments is not None:
            lines.append(self.adjustments.summary())
            lines.append(self.adjustments.writeoff_summary())
        if self.dossiers is not None:
            lines += self.dossiers.lines(self.as_of)
        lines.append(_("%(on)s: %(n)d reminder(s) sent") % {"on": on, "n": self.reminders_sent})
        if self.paid_months is not None:
            lines.append(
                _("%(on)s: paid person-month batch %(number)d (%(rows)d month(s))")
                % {"on": on, "number": self.paid_months.number, "rows": self.paid_months.rows}
            )
        return lines


def daily_run(
    *, as_of: date, actor: System = DAILY_ACTOR, now: datetime | None = None
) -> DailyReport:
    """`now` bounds the reminders sent: by default the present moment when `as_of` is today
    (the 01:00 run leaves the 09:00 reminders to the periodic job), the end of `as_of` else."""
    report = DailyReport(as_of=as_of)
    # Money that arrived is posted before deadlines are judged: a case paid in time never goes
    # overdue because its money was posted the day after.
    report.adjustments = adjustments_post(actor=actor, as_of=as_of)
    report.deadlines_passed = _notice_deadlines_pass(as_of=as_of, actor=actor)
    # Fulfilments first: an agreement paid in full is never reported breached.
    report.agreements_fulfilled = agreements_fulfil_due(as_of=as_of, actor=actor)
    report.agreements_breached = agreements_breach_due(as_of=as_of, actor=actor)
    # Enforcement dossiers follow their cases (settled, under agreement, written off).
    report.dossiers = dossiers_follow(as_of=as_of, actor=actor)
    # Reminders last, so they see the day's payments, deadlines and breaches.
    # Those falling due by tomorrow: tomorrow's run schedules the day after.
    reminders_schedule(as_of=as_of, due_by=as_of + timedelta(days=1), actor=actor)
    report.reminders_sent = reminders_send_due(now=now or _reminders_until(as_of), actor=actor)
    # The months restored or reopened today, for the core contribution system to pull.
    report.paid_months = paid_months_batch_make(actor=actor, today=as_of)
    return report


def _reminders_until(as_of: date) -> datetime:
    if as_of == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))


def _notice_deadlines_pass(*, as_of: date, actor: System) -> list[int]:
    """Notified cases whose current notice's deadline is before `as_of` become overdue. The
    deadline runs from delivery, so a notice not yet delivered has none and never passes it."""
    moved: list[int] = []
    while True:
        batch = list(
            ArrearsCase.objects.filter(
                state=CaseState.NOTIFIED,
                notices__state__in=CURRENT_NOTICE_STATES,
                notices__deadline__lt=as_of,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.BULK_BATCH_SIZE]
        )
        if not batch:
            return moved
        moved += transition_apply_bulk(
            ArrearsCase.objects.filter(pk__in=batch),
            "deadline_pass",
            actor=actor,
            reason=Reason("deadline_passed", on=as_of),
        )
