"""`arrivals_import`: arrival information from finance or the tax bureau (docs/formats.md).

The same design as the arrears import: each row is checked as it streams into a staging table
(COPY on PostgreSQL), the rules across rows are checked there, and the rows are matched and moved
into arrivals with a fixed number of set-based statements. A file with any bad row writes nothing.

A re-sent `arrival_ref` posts nothing: the arrivals are inserted with ON CONFLICT DO NOTHING on
its unique constraint, so even two imports of the same file at once receive it once. (A re-sent
reference whose money differs is a bad row: a correction is a reversal and a new reference.)

The admin's preview runs the very same import in a transaction that is rolled back, and shows per
row what was matched, what the adjustment would post and what the file repeats.
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import IO, Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, require_permission
from kernel.csvfiles import (
    BadValue,
    FileRejected,
    RowError,
    checked,
    parse_amount,
    parse_date,
    parse_required,
    text_stream,
)
from kernel.file_import import RowReader, comparable, file_digest, memoized, staged_repeats
from kernel.money import FEN
from kernel.sql import bulk_load, create_temp_table, is_postgres
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalImport,
    ArrivalState,
    MatchedBy,
    PaymentChannel,
)
from replenish.reasons import Reason
from replenish.services.arrival_allocation import arrivals_plan
from replenish.services.matching import staging_match
from replenish.services.transitions import declared_transition, transition_record_created
from units.identifiers import validate_uscc
from units.models import Unit

COLUMNS = ("arrival_ref", "arrived_on", "amount", "payer_uscc", "reference", "channel")
STAGING = "arrivals_import_staging"
# The tables the SQL below names, from the models: a rename cannot silently break it.
ARRIVALS, CASES, UNITS = Arrival._meta.db_table, ArrearsCase._meta.db_table, Unit._meta.db_table
STAGING_COLUMNS = ("lineno", *COLUMNS)
MAX_REF = 64


class Outcome:
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    RESENT = "resent"


@dataclass(frozen=True)
class PreviewRow:
    """What the import does with one row of the file (shown before the import is confirmed)."""

    line: int
    arrival_ref: str
    arrived_on: date
    amount: Decimal
    payer_uscc: str
    reference: str
    channel: str
    outcome: str
    case_no: str = ""
    note: str = ""
    applied: Decimal | None = None  # what the next adjustment posts, for a matched row
    credit: Decimal | None = None
    settles: bool = False

    def __str__(self) -> str:
        where = f"line {self.line}: {self.arrival_ref} {self.amount} from {self.payer_uscc}: "
        if self.outcome == Outcome.RESENT:
            return where + "already received, posts nothing"
        if self.outcome == Outcome.UNMATCHED:
            return where + f"unmatched ({self.note}), waits for finance"
        settles = ", settles the case" if self.settles else ""
        return (
            where + f"matched to {self.case_no} ({self.note}); the adjustment applies "
            f"{self.applied} and keeps {self.credit} as credit{settles}"
        )


@dataclass(frozen=True)
class ArrivalsImportResult:
    import_id: int | None  # None for a preview, or when the file brought nothing new
    rows: int
    received: int
    resent: int
    matched: int
    unmatched: int
    preview: tuple[PreviewRow, ...] = field(default=())

    def summary(self) -> str:
        return _(
            "%(rows)d rows: %(received)d arrivals received (%(matched)d matched, %(unmatched)d "
            "unmatched), %(resent)d already received"
        ) % {
            "rows": self.rows,
            "received": self.received,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "resent": self.resent,
        }


class _Preview(Exception):
    """Raised inside the import's transaction to roll it back and hand out the preview."""

    def __init__(self, result: ArrivalsImportResult):
        self.result = result


def _parse_ref(value: str) -> str:
    value = parse_required(value)
    if len(value) > MAX_REF:
        raise BadValue(_("longer than %(n)d characters") % {"n": MAX_REF})
    return value


def _parse_reference(value: str) -> str:
    if len(value) > MAX_REF:
        raise BadValue(_("longer than %(n)d characters") % {"n": MAX_REF})
    return value


# `PaymentChannel.values` builds a new list on every access: once per row was 37% of the reader.
_CHANNELS = frozenset(PaymentChannel.values)
_CHANNEL_LIST = ", ".join(PaymentChannel.values)


def _parse_channel(value: str) -> str:
    if value not in _CHANNELS:
        raise BadValue(
            _("%(value)r is not a channel (%(channels)s)")
            % {"value": value, "channels": _CHANNEL_LIST}
        )
    return value


class _RowReader(RowReader):
    """Validates each row on its own and yields it in staging-table order; counts the rows."""

    columns = COLUMNS

    def __init__(self, *, today: date, errors: list[RowError]):
        super().__init__(today=today, errors=errors)
        # A payer pays many times: validate each distinct code once.
        self._valid_uscc = memoized(validate_uscc)
        self._positive = partial(parse_amount, allow_zero=False)

    def row(self, line: int, values: list[str]) -> tuple[Any, ...]:
        errors = self.errors
        arrival_ref = checked(errors, line, "arrival_ref", _parse_ref, values[0])
        arrived_on = checked(errors, line, "arrived_on", parse_date, values[1])
        if arrived_on and arrived_on > self.today:
            errors.append(
                RowError(
                    line, "arrived_on", _("%(value)s is in the future") % {"value": arrived_on}
                )
            )
        amount = checked(errors, line, "amount", self._positive, values[2])
        payer = checked(errors, line, "payer_uscc", self._valid_uscc, values[3])
        reference = checked(errors, line, "reference", _parse_reference, values[4])
        channel = checked(errors, line, "channel", _parse_channel, values[5])
        return (line, arrival_ref, arrived_on, amount, payer, reference, channel)

    def rejected(self, staged: tuple[Any, ...]) -> tuple[Any, ...]:
        # Staged with its reference only, so a later row repeating it is named too; the file is
        # rejected anyway.
        line, arrival_ref = staged[:2]
        return (line, arrival_ref, None, None, None, None, None)


def _cross_row_errors(cursor: CursorWrapper) -> list[RowError]:
    return [
        RowError(line, "arrival_ref", _("the same arrival_ref as line %(line)d") % {"line": first})
        for line, first in staged_repeats(
            cursor, STAGING, ("arrival_ref",), where="arrival_ref <> ''"
        )
    ]


RESENT_COMPARED = ("arrived_on", "amount", "payer_uscc", "reference", "channel")


def _resent_conflicts(cursor: CursorWrapper) -> list[RowError]:
    """A re-sent arrival_ref must bring the same arrival, every value of it: otherwise the file
    contradicts what was received (a correction is a reversal and a new arrival_ref).

    Run before the insert (to report a plain re-send with its money changed) and again after
    it, in the same transaction: an import running at the same time may have stored the
    reference between the two, and ON CONFLICT DO NOTHING then skipped this row silently. On
    PostgreSQL (READ COMMITTED) the statement after the insert sees the row the other import
    committed, so a conflicting value is an error however many imports arrive at once."""
    differs = " OR ".join(f"a.{name} IS DISTINCT FROM s.{name}" for name in RESENT_COMPARED)
    was = ", ".join(f"a.{name}" for name in RESENT_COMPARED)
    now = ", ".join(f"s.{name}" for name in RESENT_COMPARED)
    cursor.execute(
        f"""
        SELECT s.lineno, {was}, {now}
        FROM {STAGING} s JOIN {ARRIVALS} a ON a.arrival_ref = s.arrival_ref
        WHERE {differs}
        ORDER BY s.lineno
        """
    )
    found = []
    count = len(RESENT_COMPARED)
    for lineno, *values in cursor.fetchall():
        for name, was, now in zip(RESENT_COMPARED, values[:count], values[count:], strict=True):
            if comparable(was) != comparable(now):
                shown = comparable(was) or "(empty)"
                found.append(
                    RowError(
                        lineno,
                        name,
                        _(
                            "arrival_ref already received with %(column)s %(value)s; a "
                            "correction is a reversal and a new arrival_ref"
                        )
                        % {"column": name, "value": shown},
                    )
                )
    return found


def arrivals_import(
    *,
    file: IO[bytes],
    file_name: str,
    actor: Actor,
    today: date | None = None,
    preview: bool = False,
) -> ArrivalsImportResult:
    """Import an arrivals file: all of it, or nothing (FileRejected lists every bad row).

    With `preview=True` the import runs whole and is rolled back; the result then says row by
    row what confirming it would do, including what the next adjustment would post.
    """
    require_permission(actor, "replenish.add_arrival", action=_("import arrivals"))
    today = today or timezone.localdate()
    sha256 = file_digest(file)
    errors: list[RowError] = []
    reader = _RowReader(today=today, errors=errors)
    try:
        with transaction.atomic(), connection.cursor() as cursor, text_stream(file) as text:
            create_temp_table(
                cursor,
                STAGING,
                f"lineno integer, arrival_ref varchar({MAX_REF}), arrived_on date,"
                f" amount numeric(16,2), payer_uscc varchar(18), reference varchar({MAX_REF}),"
                " channel varchar(8), case_id bigint, matched_by varchar(16),"
                " note varchar(255) NOT NULL DEFAULT ''",
            )
            bulk_load(cursor, STAGING, STAGING_COLUMNS, reader(text))
            if is_postgres():
                # Autovacuum never analyzes a temporary table: without statistics the planner
                # takes the staging rows for one and matches them by nested loop over the open
                # cases (docs/benchmarks.md). With statistics, the estimates of the matching
                # statements pass jit_above_cost, and compiling them took longer than running
                # them: no JIT for this transaction.
                cursor.execute(f"ANALYZE {STAGING}")
                cursor.execute("SET LOCAL jit = off")
            errors += _cross_row_errors(cursor)
            if not errors:
                errors += _resent_conflicts(cursor)
            if errors:
                raise FileRejected(sorted(errors, key=lambda e: (e.line, e.column)))
            result, batch_id = _apply_staging(
                cursor, file_name=file_name, sha256=sha256, rows=reader.rows, actor=actor
            )
            if preview:
                # The preview is the import itself, rolled back: one code path for both.
                raise _Preview(_preview(cursor, result, batch_id))
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    except _Preview as done:
        return done.result
    return result


def _apply_staging(
    cursor: CursorWrapper, *, file_name: str, sha256: str, rows: int, actor: Actor
) -> tuple[ArrivalsImportResult, int]:
    staging_match(cursor, STAGING)
    batch = ArrivalImport.objects.create(
        file_name=file_name[:255], sha256=sha256, rows=rows, actor_label=actor_label(actor)
    )
    now = timezone.now()
    # Each arrival is inserted in the state its match gives it, and its transition out of
    # `received` is recorded below (transition_record_created), not run as an UPDATE of every
    # row just inserted. The unique arrival_ref makes a re-sent arrival a no-op, also against a
    # concurrent import.
    _sources, matched_state = declared_transition(Arrival, "match")
    _sources, unmatched_state = declared_transition(Arrival, "queue")
    cursor.execute(
        f"""
        INSERT INTO {ARRIVALS}
            (arrival_ref, arrived_on, amount, payer_uscc, payer_id, reference, channel, state,
             state_changed_at, case_id, matched_by, match_note, import_batch_id, received_at,
             applied_amount, credit_amount, posted_at)
        SELECT s.arrival_ref, s.arrived_on, s.amount, s.payer_uscc,
               (SELECT u.id FROM {UNITS} u WHERE u.uscc = s.payer_uscc), s.reference,
               s.channel, CASE WHEN s.case_id IS NULL THEN %s ELSE %s END, %s, s.case_id,
               COALESCE(s.matched_by, ''), s.note, %s, %s, 0, 0, NULL
        FROM {STAGING} s WHERE true ORDER BY s.lineno
        ON CONFLICT (arrival_ref) DO NOTHING
        """,
        [unmatched_state, matched_state, now, batch.pk, now],
    )
    received = cursor.rowcount
    # Re-read what is stored now: a concurrent import may have received one of these references
    # with other values after the check before the insert (the insert then skipped it).
    conflicts = _resent_conflicts(cursor)
    if conflicts:
        raise FileRejected(sorted(conflicts, key=lambda e: (e.line, e.column)))
    mine = Arrival.objects.filter(import_batch=batch)
    label = file_name[:200]
    record = partial(transition_record_created, actor=actor, at=now)
    matched = record(
        mine.filter(matched_by=MatchedBy.REFERENCE),
        "match",
        reason=Reason("arrivals_matched_by_reference", file=label),
    ) + record(
        mine.filter(matched_by=MatchedBy.PAYER),
        "match",
        reason=Reason("arrivals_matched_by_payer", file=label),
    )
    unmatched = record(
        mine.filter(case__isnull=True), "queue", reason=Reason("arrivals_unmatched", file=label)
    )
    if matched + unmatched != received:
        # Every arrival inserted has its transition recorded, or the import does not happen.
        raise RuntimeError(f"{received} arrivals received, {matched + unmatched} recorded")
    batch_id = batch.pk
    if received == 0:
        # A file already imported adds nothing, not even a record of itself.
        ArrivalImport.objects.filter(pk=batch.pk).delete()
        batch.pk = None
    else:
        ArrivalImport.objects.filter(pk=batch.pk).update(
            received=received, resent=rows - received, matched=matched, unmatched=unmatched
        )
    result = ArrivalsImportResult(
        import_id=batch.pk,
        rows=rows,
        received=received,
        resent=rows - received,
        matched=matched,
        unmatched=unmatched,
    )
    return result, batch_id


def _preview(
    cursor: CursorWrapper, result: ArrivalsImportResult, batch_id: int
) -> ArrivalsImportResult:
    """Row by row, what the import did (about to be rolled back) and what posting the matched
    arrivals would do, planned as the adjustment plans it (after the arrivals already waiting)."""
    cursor.execute(
        f"""
        SELECT s.lineno, s.arrival_ref, s.arrived_on, s.amount, s.payer_uscc, s.reference,
               s.channel, a.id, a.import_batch_id, a.state, c.case_no, a.match_note
        FROM {STAGING} s
        JOIN {ARRIVALS} a ON a.arrival_ref = s.arrival_ref
        LEFT JOIN {CASES} c ON c.id = a.case_id
        ORDER BY s.lineno
        """
    )
    staged = cursor.fetchall()
    case_ids = set(
        Arrival.objects.filter(import_batch_id=batch_id, state=ArrivalState.MATCHED).values_list(
            "case_id", flat=True
        )
    )
    plan = arrivals_plan(
        list(
            ArrearsLine.objects.filter(case_id__in=case_ids).exclude(
                employer_unpaid=0, employee_unpaid=0, fee_unpaid=0
            )
        ),
        list(Arrival.objects.filter(case_id__in=case_ids, state=ArrivalState.MATCHED)),
    )
    planned = {p.arrival_id: p for p in plan.arrivals}
    last_of_case = {p.case_id: p.arrival_id for p in plan.arrivals}
    settle_sources, _target = declared_transition(ArrearsCase, "settle")
    settling = set(
        ArrearsCase.objects.filter(
            pk__in=plan.cleared_case_ids, state__in=settle_sources
        ).values_list("pk", flat=True)
    )
    rows = []
    for line, ref, arrived_on, amount, payer, reference, channel, *arrival in staged:
        pk, batch, state, case_no, note = arrival
        row = partial(
            PreviewRow,
            line=line,
            arrival_ref=ref,
            arrived_on=_as_date(arrived_on),
            amount=Decimal(str(amount)).quantize(FEN),
            payer_uscc=payer,
            reference=reference,
            channel=channel,
        )
        if batch != batch_id:
            rows.append(row(outcome=Outcome.RESENT))
        elif state == ArrivalState.UNMATCHED:
            rows.append(row(outcome=Outcome.UNMATCHED, note=note))
        else:
            p = planned[pk]
            rows.append(
                row(
                    outcome=Outcome.MATCHED,
                    case_no=case_no,
                    note=note,
                    applied=p.applied,
                    credit=p.credit,
                    settles=p.case_id in settling and last_of_case[p.case_id] == pk,
                )
            )
    return dataclasses.replace(result, import_id=None, preview=tuple(rows))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
