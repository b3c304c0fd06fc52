"""Reminders: rules staff switch on and off and time in days, reminder rows due at a time, and a
short periodic job that turns due reminders into notifications.

A rule reminds of something through its *source*: which things need a reminder and counted from
which date (`anchors`), whether one is still needed when it falls due (`still_due`), and what to
send (`messages`). The notice rules' sources are here. Installments, agreements, write-offs and
arrivals register theirs with `register()` from their app's `ready()`; until then their rules
exist (and can be set) but schedule nothing.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.actors import Actor, System, require_permission
from kernel.sql import ids_in, is_postgres
from notices.messages import Kind
from notices.models import (
    DELIVERED_NOTICE_STATES,
    RULE_LABELS,
    Department,
    Notice,
    Reminder,
    ReminderRule,
    ReminderState,
)
from notices.outbox import Outgoing, notifications_create, unit_channels
from replenish.models import ArrearsCase, CaseState

SCHEDULER = System("reminders")
BATCH = 1000
BEFORE, AFTER = -1, 1


@dataclass(frozen=True)
class RuleSpec:
    code: str
    default_days: int
    direction: int  # BEFORE the anchor date, or AFTER it
    label: object
    recipients: object


RULES: dict[str, RuleSpec] = {
    spec.code: spec
    for spec in [
        RuleSpec(
            "notice_deadline_approaching",
            2,
            BEFORE,
            gettext_lazy("Notice deadline approaching: days before the deadline"),
            gettext_lazy("the unit"),
        ),
        RuleSpec(
            "notice_overdue",
            1,
            AFTER,
            gettext_lazy("Notice overdue: days after the deadline"),
            gettext_lazy("the unit and the collection department"),
        ),
        RuleSpec(
            "installment_due_7",
            7,
            BEFORE,
            gettext_lazy("Installment due: first reminder, days before the due date"),
            gettext_lazy("the unit"),
        ),
        RuleSpec(
            "installment_due_1",
            1,
            BEFORE,
            gettext_lazy("Installment due: second reminder, days before the due date"),
            gettext_lazy("the unit"),
        ),
        RuleSpec(
            "installment_overdue",
            1,
            AFTER,
            gettext_lazy("Installment overdue: days after the due date"),
            gettext_lazy("the unit and the collection department"),
        ),
        RuleSpec(
            "agreement_breached",
            0,
            AFTER,
            gettext_lazy("Agreement breached: days after the breach"),
            gettext_lazy("the counterparty and the collection department"),
        ),
        RuleSpec(
            "writeoff_waiting",
            30,
            AFTER,
            gettext_lazy("Write-off waiting in audit: days after it was sent to audit"),
            gettext_lazy("the audit & supervision department"),
        ),
        RuleSpec(
            "arrival_unmatched",
            7,
            AFTER,
            gettext_lazy("Arrival unmatched: days after it arrived"),
            gettext_lazy("the finance department"),
        ),
        RuleSpec(
            "writeoff_returned",
            15,
            AFTER,
            gettext_lazy("Write-off application returned: days after it was returned"),
            gettext_lazy("the liquidation group and the collection department"),
        ),
    ]
}
RULE_LABELS.update({code: spec.label for code, spec in RULES.items()})


@dataclass(frozen=True)
class Anchor:
    """Something that needs a reminder, and the date the rule counts its days from."""

    subject_id: int
    anchor: date
    case_id: int | None = None


class ReminderSource:
    """What one rule reminds of. Every method works on sets, with a fixed number of queries."""

    rule: str
    subject: str

    def anchors(
        self,
        *,
        subject_ids: Sequence[int] | None,
        anchored_by: date | None = None,
        unscheduled_for: ReminderRule | None = None,
    ) -> Iterable[Anchor]:
        """Things that need this reminder (all current ones, or those of `subject_ids`); with
        `anchored_by`, only those whose anchor date is on or before it; with `unscheduled_for`
        (a rule), a source may leave out the anchors that already have that rule's reminder for
        the same anchor date (`anchor_rows` does it with an anti-join in SQL), so that scheduling
        costs what appeared or changed since the previous run, not every reminder ever made."""
        raise NotImplementedError

    def anchor_rows(
        self,
        rows: QuerySet,
        *,
        anchor: str,
        case: str | None = "case_id",
        unscheduled_for: ReminderRule | None = None,
    ) -> Iterator[Anchor]:
        """The anchors of a queryset of subjects (`anchor` and `case` name its fields or
        annotations), without those that have `unscheduled_for`'s reminder already."""
        if unscheduled_for is not None:
            rows = rows.exclude(
                Exists(
                    Reminder.objects.filter(
                        rule=unscheduled_for,
                        subject=self.subject,
                        subject_id=OuterRef("pk"),
                        anchor=OuterRef(anchor),
                    )
                )
            )
        fields = ["pk", anchor] + ([case] if case else [])
        # Read at once, not through `.iterator()`: on PostgreSQL that is a server-side cursor,
        # declared, described, fetched from and closed (three waits on the database where a
        # plain read has one), for each rule of each daily run, which mostly finds nothing new.
        # What is read is what falls due by the next run and has no reminder yet (after the
        # first run, what changed since the one before), or the subjects asked for.
        for row in list(rows.values_list(*fields)):
            yield Anchor(subject_id=row[0], anchor=row[1], case_id=row[2] if case else None)

    def still_due(self, subject_ids: Sequence[int]) -> set[int]:
        """Which of these still need the reminder now that it is due (not paid, not replaced)."""
        raise NotImplementedError

    def messages(self, reminders: Sequence[Reminder]) -> list[Outgoing]:
        """The notifications to create for these due reminders; dedupe keys from the reminder."""
        raise NotImplementedError


SOURCES: dict[str, ReminderSource] = {}


def register(source: ReminderSource) -> None:
    if source.rule not in RULES:
        raise ValueError(f"no reminder rule {source.rule!r}: add it to RULES and a migration")
    SOURCES[source.rule] = source


def due_at(anchor: date, *, rule: ReminderRule) -> datetime:
    """The moment a reminder falls due: `days` before or after the anchor, at the hour reminders
    go out (REMINDER_SEND_HOUR, local time)."""
    day = anchor + timedelta(days=RULES[rule.code].direction * rule.days)
    return timezone.make_aware(
        datetime.combine(day, time(settings.REMINDER_SEND_HOUR)), timezone.get_default_timezone()
    )


def reminders_schedule(
    *,
    as_of: date,
    subject: str | None = None,
    subject_ids: Sequence[int] | None = None,
    due_by: date | None = None,
    actor: Actor = SCHEDULER,
) -> int:
    """Create the reminder rows of every enabled rule with a source (or only of the rules about
    `subject`, for `subject_ids`). Idempotent: a reminder already there is left alone (the
    sources leave out, in SQL, the anchors whose reminder exists already). Returns the number of
    candidates seen, i.e. of anchors new or changed since the previous run.

    With `due_by`, only the reminders falling due on or before that day: the daily run schedules
    what falls due before the next run, so that its cost follows the reminders due, not every
    installment and notice of the region that will need one some day.
    """
    seen = 0
    rules = ReminderRule.objects.filter(enabled=True, code__in=list(SOURCES))
    for rule in rules:
        source = SOURCES[rule.code]
        if subject is not None and source.subject != subject:
            continue
        anchored_by = None
        if due_by is not None:
            anchored_by = due_by - timedelta(days=RULES[rule.code].direction * rule.days)
        batch: list[Reminder] = []
        anchors = source.anchors(
            subject_ids=subject_ids, anchored_by=anchored_by, unscheduled_for=rule
        )
        for anchor in anchors:
            seen += 1
            batch.append(
                Reminder(
                    rule=rule,
                    dedupe_key=f"{rule.code}:{source.subject}:{anchor.subject_id}:{anchor.anchor}",
                    subject=source.subject,
                    subject_id=anchor.subject_id,
                    case_id=anchor.case_id,
                    anchor=anchor.anchor,
                    due_at=due_at(anchor.anchor, rule=rule),
                )
            )
            if len(batch) >= BATCH:
                Reminder.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        Reminder.objects.bulk_create(batch, ignore_conflicts=True)
    return seen


def reminders_send_due(*, now: datetime | None = None, actor: Actor = SCHEDULER) -> int:
    """Turn every reminder due by `now` into notifications, or cancel it when it is no longer
    needed (the case was paid, the notice replaced, the rule switched off). Returns how many
    were sent. Reminders of rules without a source wait."""
    now = now or timezone.now()
    sent_total = 0
    while True:
        with transaction.atomic():
            query = (
                Reminder.objects.filter(
                    state=ReminderState.SCHEDULED, due_at__lte=now, rule__code__in=list(SOURCES)
                )
                .select_related("rule")
                .order_by("due_at", "pk")
            )
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True, of=("self",))
            due = list(query[:BATCH])
            if not due:
                return sent_total
            by_rule: dict[str, list[Reminder]] = defaultdict(list)
            for reminder in due:
                by_rule[reminder.rule.code].append(reminder)
            sent, cancelled, outgoing = [], [], []
            for code, reminders in by_rule.items():
                if not reminders[0].rule.enabled:
                    cancelled += [r.pk for r in reminders]
                    continue
                source = SOURCES[code]
                still = source.still_due([r.subject_id for r in reminders])
                going = [r for r in reminders if r.subject_id in still]
                cancelled += [r.pk for r in reminders if r.subject_id not in still]
                sent += [r.pk for r in going]
                outgoing += source.messages(going)
            notifications_create(outgoing, dispatch="sweep", now=now)
            Reminder.objects.filter(pk__in=sent).update(state=ReminderState.SENT, done_at=now)
            Reminder.objects.filter(pk__in=cancelled).update(
                state=ReminderState.CANCELLED, done_at=now
            )
            sent_total += len(sent)


def reminder_rule_change(*, rule_id: int, enabled: bool, days: int, actor: Actor) -> ReminderRule:
    """Staff switch a rule on or off or change its days. Reminders not yet sent move with the
    new days; a rule switched off cancels its reminders when they fall due."""
    require_permission(actor, "notices.change_reminderrule")
    if not isinstance(days, int) or not 0 <= days <= 365:
        raise ValidationError({"days": _("Days must be a whole number from 0 to 365.")})
    with transaction.atomic():
        rule = ReminderRule.objects.select_for_update().get(pk=rule_id)
        shift = RULES[rule.code].direction * (days - rule.days)
        rule.enabled, rule.days = enabled, days
        rule.save(update_fields=["enabled", "days"])
        if shift:
            Reminder.objects.filter(rule=rule, state=ReminderState.SCHEDULED).update(
                due_at=F("due_at") + timedelta(days=shift)
            )
    return rule


# --- the notice rules ------------------------------------------------------------------------


# What a notice's reminder says: seven values of the notice's snapshot, read in SQL (reading 900
# notices whole took 0.24 s), and two columns of the notice.
_SNAPSHOT_PATHS = {
    "unit_name": ("unit", "name"),
    "unit_uscc": ("unit", "uscc"),
    "case_no": ("case_no",),
    "total": ("total",),
    "issued_on": ("issued_on",),
    "agency_name": ("agency", "name"),
    "agency_contact": ("agency", "contact"),
}


def _notice_contexts(notice_ids: Sequence[int]) -> dict[int, tuple[dict[str, str], int, int]]:
    """Each notice's message context, with its case and the case's unit."""
    contexts = {}
    for pk, case_id, unit_id, number, deadline, *values in _notice_context_rows(notice_ids):
        context = dict(zip(_SNAPSHOT_PATHS, values, strict=True))
        context["notice_no"] = number
        context["deadline"] = deadline.isoformat() if deadline else ""
        contexts[pk] = (context, case_id, unit_id)
    return contexts


def _notice_context_rows(notice_ids: Sequence[int]) -> Iterable[tuple]:
    """(notice, case, unit, number, deadline, *the snapshot's values), a row a notice.

    On PostgreSQL a snapshot (2 KB compressed, some of them stored out of line) is decompressed
    by every path read from the column: seven paths cost seven times one. There the snapshot is
    read once, into memory (`|| '{}'` makes a new value; `OFFSET 0` keeps the subquery, and so
    the one read, apart), and the paths are read from that: 900 notices 13 ms against 57–74 ms
    (docs/benchmarks.md)."""
    ids = list(notice_ids)
    if not is_postgres():
        return Notice.objects.filter(pk__in=ids).values_list(
            "pk",
            "case_id",
            "case__unit_id",
            "number",
            "deadline",
            *(KT("__".join(("snapshot", *path))) for path in _SNAPSHOT_PATHS.values()),
        )
    notices, cases = Notice._meta.db_table, ArrearsCase._meta.db_table
    paths = ", ".join("read.snapshot #>> %s" for _path in _SNAPSHOT_PATHS)
    where, params = ids_in("n.id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            # Built from the models' table names and constant paths; the ids are a parameter.
            f"""
            SELECT n.id, n.case_id, c.unit_id, n.number, n.deadline, {paths}
            FROM {notices} n
            JOIN {cases} c ON c.id = n.case_id
            CROSS JOIN LATERAL (SELECT n.snapshot || '{{}}'::jsonb AS snapshot OFFSET 0) read
            WHERE {where}
            """,  # noqa: S608
            [*(list(path) for path in _SNAPSHOT_PATHS.values()), *params],
        )
        return cursor.fetchall()


class _NoticeSource(ReminderSource):
    subject = "notice"
    kind: str
    case_states: tuple[str, ...]
    department: str = ""

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        notices = Notice.objects.filter(
            state__in=DELIVERED_NOTICE_STATES,
            deadline__isnull=False,
            case__state__in=(*self.case_states, CaseState.NOTIFIED),
        )
        if subject_ids is not None:
            notices = notices.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            notices = notices.filter(deadline__lte=anchored_by)
        return self.anchor_rows(notices, anchor="deadline", unscheduled_for=unscheduled_for)

    def still_due(self, subject_ids):
        return set(
            Notice.objects.filter(
                pk__in=list(subject_ids),
                state__in=DELIVERED_NOTICE_STATES,
                case__state__in=self.case_states,
            ).values_list("pk", flat=True)
        )

    def messages(self, reminders):
        notices = _notice_contexts([r.subject_id for r in reminders])
        channels = unit_channels({unit_id for _context, _case_id, unit_id in notices.values()})
        outgoing = []
        for reminder in reminders:
            context, case_id, unit_id = notices[reminder.subject_id]
            for channel, address in channels[unit_id]:
                outgoing.append(
                    Outgoing(
                        dedupe_key=f"reminder:{reminder.pk}:{channel}",
                        kind=self.kind,
                        channel=channel,
                        context=context,
                        unit_id=unit_id,
                        address=address,
                        case_id=case_id,
                        notice_id=reminder.subject_id,
                    )
                )
            if self.department:
                outgoing.append(
                    Outgoing(
                        dedupe_key=f"reminder:{reminder.pk}:department:{self.department}",
                        kind=Kind.NOTICE_OVERDUE_STAFF,
                        channel="email",
                        context=context,
                        department=self.department,
                        case_id=case_id,
                        notice_id=reminder.subject_id,
                    )
                )
        return outgoing


class NoticeDeadlineApproaching(_NoticeSource):
    """Before the deadline of a delivered notice whose case is still unpaid (notified)."""

    rule = "notice_deadline_approaching"
    kind = Kind.NOTICE_DEADLINE_APPROACHING
    case_states = (CaseState.NOTIFIED,)


class NoticeOverdue(_NoticeSource):
    """After the deadline passed unpaid (the case is overdue): the unit and the collection
    department."""

    rule = "notice_overdue"
    kind = Kind.NOTICE_OVERDUE
    case_states = (CaseState.OVERDUE,)
    department = Department.COLLECTION


register(NoticeDeadlineApproaching())
register(NoticeOverdue())
