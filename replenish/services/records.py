"""Employees' records restored: the paid person-month feed to the core contribution system
(docs/formats.md, "Paid person-months") and a person's months for the back office and the
city-service front ends.

A month is (original unit, insured person, period). Its figures come from the ledger of all its
lines — the original line and every successor's share of it, however often it was passed on — in
one grouped query, so the feed of a whole region takes a fixed number of statements:

- assessed: the `assessed` and `correction` entries (transfers between shares cancel out);
- owed: the sum of every principal entry (what is still unpaid, wherever it now sits);
- `paid` when nothing is owed and nothing was written off, `written_off` when nothing is owed
  and some was written off, `reopened` when a month reported as one of these (or as reopened)
  is owed again, else owed (never reported). A month partly paid stays owed.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from kernel.actors import Actor, actor_label, actor_user, require_permission
from replenish.models import (
    AccessChannel,
    ArrearsCase,
    ArrearsLine,
    CaseState,
    LedgerEntry,
    LedgerKind,
    MonthStatus,
    PaidMonthBatch,
    PaidMonthRow,
    PersonRecordAccess,
    ReadingMark,
    ReportedMonth,
)
from replenish.reasons import Reason, reason_fields
from replenish.services.changes import (
    LEDGER_RECORDED_AT_INDEX,
    oldest_open_transaction_start,
    reading_mark_lock,
    times_summarized,
)
from replenish.services.numbering import number_block_take
from units.identifiers import mask_id_number
from units.models import InsuredPerson, Unit

logger = logging.getLogger(__name__)

HEADER = (
    "batch",
    "unit_uscc",
    "id_number",
    "period",
    "employer_amount",
    "employee_amount",
    "status",
    "status_on",
)
BATCH_SCOPE = "paid-months"
STATUS_LABELS: dict[str, Promise] = {
    MonthStatus.OWED: pgettext_lazy("month status", "owed"),
    MonthStatus.PAID: pgettext_lazy("month status", "paid on"),
    MonthStatus.WRITTEN_OFF: pgettext_lazy("month status", "written off on"),
    MonthStatus.REOPENED: pgettext_lazy("month status", "owed again since"),
    CaseState.AGREEMENT: pgettext_lazy("month status", "under agreement"),
    CaseState.WRITEOFF: pgettext_lazy("month status", "in write-off"),
}
_K = LedgerKind
_S = MonthStatus


def _month_figures_sql(where: str = "") -> str:
    """Every month's figures from its ledger, one row per (unit, person, period)."""
    entry, line = LedgerEntry._meta.db_table, ArrearsLine._meta.db_table
    unit, person = Unit._meta.db_table, InsuredPerson._meta.db_table
    principal = "e.employer + e.employee"
    return f"""
        SELECT u.uscc AS unit_uscc, p.id_number AS id_number, l.period AS period,
            ROUND(SUM(CASE WHEN e.kind IN ('{_K.ASSESSED}', '{_K.CORRECTION}')
                      THEN e.employer ELSE 0 END), 2) AS employer_amount,
            ROUND(SUM(CASE WHEN e.kind IN ('{_K.ASSESSED}', '{_K.CORRECTION}')
                      THEN e.employee ELSE 0 END), 2) AS employee_amount,
            ROUND(SUM({principal}), 2) AS owed,
            ROUND(SUM(CASE WHEN e.kind = '{_K.WRITTEN_OFF}' THEN {principal} ELSE 0 END), 2)
                AS written_off,
            MAX(CASE WHEN {principal} < 0
                     AND e.kind NOT IN ('{_K.TRANSFERRED}', '{_K.WRITTEN_OFF}')
                THEN e.effective_on END) AS paid_on,
            MAX(CASE WHEN e.kind = '{_K.WRITTEN_OFF}' THEN e.effective_on END) AS written_off_on,
            MAX(CASE WHEN {principal} > 0
                     AND e.kind IN ('{_K.PAYMENT_REVERSED}', '{_K.CORRECTION}')
                THEN e.effective_on END) AS reopened_on
        FROM {entry} e
        JOIN {line} l ON l.id = e.line_id
        JOIN {unit} u ON u.id = l.unit_id
        JOIN {person} p ON p.id = l.person_id
        {where}
        GROUP BY u.uscc, p.id_number, l.period
    """


def _status_sql(figures: str) -> str:
    """The months with their current status beside the status last reported."""
    reported = ReportedMonth._meta.db_table
    return f"""
        SELECT m.*, COALESCE(r.status, '{_S.OWED}') AS reported,
            CASE
                WHEN m.employer_amount + m.employee_amount = 0 THEN COALESCE(r.status, '{_S.OWED}')
                WHEN m.owed = 0 AND m.written_off = 0 THEN '{_S.PAID}'
                WHEN m.owed = 0 THEN '{_S.WRITTEN_OFF}'
                WHEN r.status IN ('{_S.PAID}', '{_S.WRITTEN_OFF}', '{_S.REOPENED}')
                    THEN '{_S.REOPENED}'
                ELSE '{_S.OWED}'
            END AS status
        FROM ({figures}) m
        LEFT JOIN {reported} r
            ON r.unit_uscc = m.unit_uscc AND r.id_number = m.id_number AND r.period = m.period
    """


def _status_on_sql(today: date) -> str:
    return f"""
        CASE s.status
            WHEN '{_S.PAID}' THEN COALESCE(s.paid_on, '{today.isoformat()}')
            WHEN '{_S.WRITTEN_OFF}' THEN COALESCE(s.written_off_on, '{today.isoformat()}')
            ELSE COALESCE(s.reopened_on, '{today.isoformat()}')
        END
    """


# A month's status changes only with an entry of its ledger: a batch looks again only at the
# months with an entry recorded since the ledger was last read. An entry is recorded before its
# transaction commits, at the start of its transaction by the database's clock (the column's
# default: `ledger._database_records_the_time`), so "since" is from the start of the oldest
# transaction still open then (its `ReadingMark`), by the same clock. A reading that
# finds nothing to report moves the mark on too. Before the mark was kept, a batch's own
# `scanned_from` served, less a minute for the hosts' clocks (entries were recorded by the
# process's clock then); batches made before that was kept look again from a day before they
# were made (RESCAN_MARGIN).
EARLIER_CLOCK_MARGIN = timedelta(minutes=1)
RESCAN_MARGIN = timedelta(days=1)


def _read_since(reading: ReadingMark) -> datetime | None:
    """Since when the ledger must be read again: None (everything) before the first batch."""
    if reading.read_from is not None:
        return reading.read_from
    previous = PaidMonthBatch.objects.order_by("-number").first()
    if previous is None:
        return None
    if previous.scanned_from is not None:
        return previous.scanned_from - EARLIER_CLOCK_MARGIN
    return previous.made_at - RESCAN_MARGIN


def _touched_since(since: datetime | None) -> tuple[str, list[Any]]:
    """The figures' WHERE for the months a batch must look at: all of them, or those with a
    ledger entry recorded since `since`."""
    if since is None:
        return "", []
    entry, line = LedgerEntry._meta.db_table, ArrearsLine._meta.db_table
    return (
        f"""WHERE (l.unit_id, l.person_id, l.period) IN (
                SELECT t.unit_id, t.person_id, t.period FROM {entry} touched
                JOIN {line} t ON t.id = touched.line_id
                WHERE touched.recorded_at >= %s)""",
        [since],
    )


def paid_months_batch_make(*, actor: Actor, today: date | None = None) -> PaidMonthBatch | None:
    """Make the next batch of every month whose status changed since it was last reported, or
    nothing (None) when no month changed. Two runs at once make one batch: the reading mark is
    locked first, and the second run finds nothing left to report. Only the months with ledger
    entries since the ledger was last read are looked at: the work follows what happened, not
    the size of the region."""
    require_permission(actor, "replenish.add_paidmonthbatch", action=_("make a paid-month batch"))
    today = today or timezone.localdate()
    with transaction.atomic():
        reading = reading_mark_lock(ReadingMark.Reader.PAID_MONTHS)
        times_summarized(LEDGER_RECORDED_AT_INDEX)
        since = _read_since(reading)
        read_from = oldest_open_transaction_start()
        batch = _batch_of_changed_months(actor, today, since, read_from)
        reading.read_from, reading.read_at = read_from, timezone.now()
        reading.save(update_fields=["read_from", "read_at"])
    return batch


def _batch_of_changed_months(
    actor: Actor, today: date, since: datetime | None, read_from: datetime
) -> PaidMonthBatch | None:
    """The batch of the months touched since `since` whose status is not the one reported, or
    None, its number given back, when there is none."""
    rows, reported = PaidMonthRow._meta.db_table, ReportedMonth._meta.db_table
    where, where_params = _touched_since(since)
    with transaction.atomic():
        batch = PaidMonthBatch.objects.create(
            number=number_block_take(scope=BATCH_SCOPE),
            made_by=actor_label(actor),
            rows=0,
            scanned_from=read_from,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {rows} (batch_id, unit_uscc, id_number, period, employer_amount,
                                    employee_amount, status, status_on)
                SELECT %s, s.unit_uscc, s.id_number, s.period, s.employer_amount,
                       s.employee_amount, s.status, {_status_on_sql(today)}
                FROM ({_status_sql(_month_figures_sql(where))}) s
                WHERE s.status <> s.reported
                """,
                [batch.pk, *where_params],
            )
            count = cursor.rowcount
            if count == 0:
                transaction.set_rollback(True)  # gives the batch number back
                return None
            cursor.execute(
                f"""
                DELETE FROM {reported} WHERE EXISTS (
                    SELECT 1 FROM {rows} n WHERE n.batch_id = %s
                    AND n.unit_uscc = {reported}.unit_uscc
                    AND n.id_number = {reported}.id_number AND n.period = {reported}.period)
                """,
                [batch.pk],
            )
            cursor.execute(
                f"""
                INSERT INTO {reported} (unit_uscc, id_number, period, status, batch_id)
                SELECT unit_uscc, id_number, period, status, batch_id FROM {rows}
                WHERE batch_id = %s
                """,
                [batch.pk],
            )
        batch.rows = count
        batch.save(update_fields=["rows"])
    return batch


def paid_months_csv(number: int) -> Iterator[str]:
    """Batch `number` as the file's lines (the header first), the same bytes every time."""
    months = (
        PaidMonthRow.objects.filter(batch__number=number)
        .order_by("unit_uscc", "id_number", "period")
        .values_list(
            "unit_uscc",
            "id_number",
            "period",
            "employer_amount",
            "employee_amount",
            "status",
            "status_on",
        )
    )
    yield ",".join(HEADER) + "\n"
    # Pages of a fixed size rather than a server-side cursor: a download streams after the
    # request's transaction has ended, where PostgreSQL closes such cursors.
    page, start = 5000, 0
    while True:
        rows = list(months[start : start + page])
        for uscc, id_number, period, employer, employee, status, status_on in rows:
            yield f"{number},{uscc},{id_number},{period},{employer:.2f},{employee:.2f},"
            yield f"{status},{status_on.isoformat()}\n"
        if len(rows) < page:
            return
        start += page


@dataclass(frozen=True)
class PersonMonth:
    """One month of a person, as the person's page and the inquiry API show it."""

    unit_name: str
    unit_uscc: str
    period: str
    employer_amount: Decimal
    employee_amount: Decimal
    owed: Decimal
    status: str  # owed, agreement, writeoff, paid, written_off (MonthStatus or the case's state)
    status_on: date | None
    owed_by: str  # who owes it now: the unit itself or its successor(s)
    case_nos: tuple[str, ...]

    @property
    def restored(self) -> bool:
        return self.status in (MonthStatus.PAID, MonthStatus.WRITTEN_OFF)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


def person_months(person: InsuredPerson) -> list[PersonMonth]:
    """Every month of the person across every unit, oldest first: its status now, who owes it
    and the cases it belongs to. Three queries whatever the number of months."""
    with connection.cursor() as cursor:
        cursor.execute(
            _status_sql(_month_figures_sql("WHERE l.person_id = %s"))
            + " ORDER BY period, unit_uscc",
            [person.pk],
        )
        columns = [c[0] for c in cursor.description]
        figures = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    lines = (
        ArrearsLine.objects.filter(person=person)
        .select_related("unit", "case", "case__obligor", "case__unit")
        .order_by("period", "pk")
    )
    open_cases: dict[tuple[str, str], list[ArrearsCase]] = {}
    unit_names: dict[str, str] = {}
    for line in lines:
        unit_names[line.unit.uscc] = line.unit.name
        if line.principal_unpaid > 0:
            open_cases.setdefault((line.unit.uscc, line.period), []).append(line.case)
    months = []
    for row in figures:
        key = (row["unit_uscc"], row["period"])
        cases = open_cases.get(key, [])
        owed = Decimal(str(row["owed"])).quantize(Decimal("0.01"))
        status, status_on = _person_status(row, cases)
        months.append(
            PersonMonth(
                unit_name=unit_names.get(row["unit_uscc"], ""),
                unit_uscc=row["unit_uscc"],
                period=row["period"],
                employer_amount=Decimal(str(row["employer_amount"])).quantize(Decimal("0.01")),
                employee_amount=Decimal(str(row["employee_amount"])).quantize(Decimal("0.01")),
                owed=owed,
                status=status,
                status_on=status_on,
                owed_by="、".join(dict.fromkeys(_owed_by(c) for c in cases)),
                case_nos=tuple(dict.fromkeys(c.case_no for c in cases)),
            )
        )
    return months


@dataclass(frozen=True)
class SettledMonth:
    """A month of a unit's employee no longer owed: paid (restored) or written off."""

    id_number: str
    period: str
    status: str
    status_on: date | None


def unit_settled_months(unit_id: int) -> list[SettledMonth]:
    """The months of the unit's employees (the unit as the original employer) that are paid or
    written off, by person and period: one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id_number, s.period, s.status, s.paid_on, s.written_off_on FROM "
            f"({_status_sql(_month_figures_sql('WHERE l.unit_id = %s'))}) s "
            f"WHERE s.status IN ('{_S.PAID}', '{_S.WRITTEN_OFF}') ORDER BY s.id_number, s.period",
            [unit_id],
        )
        return [
            SettledMonth(
                id_number=id_number,
                period=period,
                status=status,
                status_on=_day(paid_on if status == _S.PAID else written_off_on),
            )
            for id_number, period, status, paid_on, written_off_on in cursor.fetchall()
        ]


def _owed_by(case: ArrearsCase) -> str:
    return case.obligor.name if case.obligor is not None else case.unit.name


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _person_status(row: dict[str, Any], cases: Sequence[ArrearsCase]) -> tuple[str, date | None]:
    """The month's status for a person's page: the feed's status, and for a month still owed
    whether it is under agreement or in write-off now."""
    status = row["status"]
    if status == MonthStatus.PAID:
        return status, _day(row["paid_on"])
    if status == MonthStatus.WRITTEN_OFF:
        return status, _day(row["written_off_on"])
    states = {c.state for c in cases}
    for state in (CaseState.WRITEOFF, CaseState.AGREEMENT):
        if state in states:
            return state, None
    if status == MonthStatus.REOPENED:
        return status, _day(row["reopened_on"])
    return MonthStatus.OWED, None


def person_records_open(
    *,
    id_number: str,
    reason: Reason | str,
    actor: Actor,
    channel: str = AccessChannel.BACK_OFFICE,
    expected_name: str | None = None,
) -> tuple[InsuredPerson | None, list[PersonMonth]]:
    """A person's months, with the opening recorded in the access log (who, when, why, whose):
    Personal Information Protection Law. Unknown numbers are recorded too.

    A city-service front end passes the name it authenticated (`expected_name`): a number whose
    person has another name is answered as an unknown number is, and logged as such.
    """
    front_end = channel == AccessChannel.FRONT_END
    require_permission(
        actor,
        "replenish.inquire_person_records" if front_end else "replenish.view_person_records",
        action=_("open a person's months"),
    )
    if isinstance(reason, str):
        reason = reason.strip()[:2000]
    if not reason:
        raise ValidationError({"reason": _("Say why you open this person's records.")})
    id_number = id_number.strip().upper()
    person = InsuredPerson.objects.filter(id_number=id_number).first()
    shown = person
    if person is not None and expected_name is not None and person.name != expected_name.strip():
        shown = None
        reason = Reason("name_mismatch", why=reason)
    PersonRecordAccess.objects.create(
        channel=channel,
        user=actor_user(actor),
        actor_label=actor_label(actor),
        person=person,
        masked_id_number=mask_id_number(id_number),
        **reason_fields(reason),
    )
    return shown, (person_months(shown) if shown else [])
