"""`arrears_import`: arrears lines from the core contribution system (docs/formats.md).

The file is validated whole in Python first (one pass, keeping only the keys needed to find
duplicates), then loaded in one statement into a staging table (COPY on PostgreSQL) and moved into
units, persons, cases, lines and the ledger with a fixed number of set-based statements, whatever
the number of lines: the database does the per-row work.
"""

from dataclasses import dataclass
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
    FileRejected,
    RowError,
    checked,
    parse_amount,
    parse_date,
    parse_period,
    parse_required,
    text_stream,
)
from kernel.file_import import (
    Progress,
    RowReader,
    comparable,
    file_digest,
    memoized,
    progress_by_bytes,
    staged_repeats,
)
from kernel.sql import bulk_load, create_temp_table, zero_padded
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    CaseState,
    ImportBatch,
)
from replenish.reasons import Reason
from replenish.services.ledger import case_totals_refresh, ledger_post_assessed
from replenish.services.numbering import (
    CASE_SEQUENCE_DIGITS,
    case_number_prefix,
    case_scope,
    number_block_take,
)
from replenish.services.transitions import audit_record_set
from units.identifiers import (
    mask_id_number,
    validate_id_number,
    validate_region_code,
    validate_uscc,
)
from units.models import Counterparty, CounterpartyKind, InsuredPerson, Unit, UnitEvent

COLUMNS = (
    "unit_uscc",
    "unit_name",
    "region_code",
    "period",
    "id_number",
    "person_name",
    "base",
    "employer_amount",
    "employee_amount",
    "due_date",
)
STAGING = "arrears_import_staging"
# The tables the SQL below names, from the models: a rename cannot silently break it.
UNITS, PERSONS = Unit._meta.db_table, InsuredPerson._meta.db_table
PARTIES, EVENTS = Counterparty._meta.db_table, UnitEvent._meta.db_table
CASES, LINES = ArrearsCase._meta.db_table, ArrearsLine._meta.db_table
STAGING_COLUMNS = (
    "lineno",
    "uscc",
    "unit_name",
    "region_code",
    "period",
    "id_number",
    "person_name",
    "base",
    "employer_amount",
    "employee_amount",
    "due_date",
)


@dataclass(frozen=True)
class ArrearsImportResult:
    batch_id: int | None  # None when the file added nothing
    rows: int
    lines_created: int
    lines_skipped: int
    cases_opened: int
    units_created: int


class _RowReader(RowReader):
    """Validates each row on its own and yields it in staging-table order; counts the rows.

    Rules across rows (duplicates, one name per unit and per person) are checked afterwards in
    SQL on the staging table, so memory does not grow with the file. Identifiers repeat on many
    lines (a unit's every employee and month), so each distinct value is validated once.
    """

    columns = COLUMNS

    def __init__(self, *, today: date, errors: list[RowError]):
        super().__init__(today=today, errors=errors)
        self.this_month = f"{today:%Y-%m}"
        self._uscc = memoized(validate_uscc)
        self._id_number = memoized(validate_id_number)
        self._region = memoized(validate_region_code)
        self._positive = partial(parse_amount, allow_zero=False)
        self._non_negative = partial(parse_amount, allow_zero=True)
        self._unit_name = partial(parse_required, max_length=200)
        self._person_name = partial(parse_required, max_length=100)

    def row(self, line: int, values: list[str]) -> tuple[Any, ...]:
        errors = self.errors
        positive, non_negative = self._positive, self._non_negative
        uscc = checked(errors, line, "unit_uscc", self._uscc, values[0])
        unit_name = checked(errors, line, "unit_name", self._unit_name, values[1])
        region = checked(errors, line, "region_code", self._region, values[2])
        period = checked(errors, line, "period", parse_period, values[3])
        if period and period > self.this_month:
            errors.append(
                RowError(line, "period", _("%(value)s is in the future") % {"value": period})
            )
        id_number = checked(errors, line, "id_number", self._id_number, values[4])
        person_name = checked(errors, line, "person_name", self._person_name, values[5])
        base = checked(errors, line, "base", positive, values[6])
        employer = checked(errors, line, "employer_amount", non_negative, values[7])
        employee = checked(errors, line, "employee_amount", non_negative, values[8])
        if employer == 0 and employee == 0:
            errors.append(RowError(line, "employee_amount", _("both portions are 0")))
        due_date = checked(errors, line, "due_date", parse_date, values[9])
        return (
            line,
            uscc,
            unit_name,
            region,
            period,
            id_number,
            person_name,
            base,
            employer,
            employee,
            due_date,
        )


def _cross_row_errors(cursor: CursorWrapper) -> list[RowError]:
    """Duplicates of (unit, period, person) and a unit or person named two ways in one file."""
    found = [
        RowError(
            line,
            "id_number",
            _("the same unit, period and person as line %(line)d") % {"line": first},
        )
        for line, first in staged_repeats(cursor, STAGING, ("uscc", "period", "id_number"))
    ]
    cursor.execute(
        f"""
        SELECT s.lineno, f.first, s.unit_name <> s0.unit_name FROM {STAGING} s
        JOIN (SELECT uscc, MIN(lineno) AS first FROM {STAGING} GROUP BY uscc
              HAVING COUNT(DISTINCT unit_name) > 1 OR COUNT(DISTINCT region_code) > 1) f
          ON f.uscc = s.uscc
        JOIN {STAGING} s0 ON s0.lineno = f.first
        WHERE s.unit_name <> s0.unit_name OR s.region_code <> s0.region_code
        """
    )
    found += [
        RowError(
            line,
            "unit_name" if name_differs else "region_code",
            _("differs from line %(line)d for the same unit") % {"line": first},
        )
        for line, first, name_differs in cursor.fetchall()
    ]
    cursor.execute(
        f"""
        SELECT s.lineno, f.first FROM {STAGING} s
        JOIN (SELECT id_number, MIN(lineno) AS first FROM {STAGING} GROUP BY id_number
              HAVING COUNT(DISTINCT person_name) > 1) f ON f.id_number = s.id_number
        JOIN {STAGING} s0 ON s0.lineno = f.first
        WHERE s.person_name <> s0.person_name
        """
    )
    found += [
        RowError(
            line,
            "person_name",
            _("differs from line %(line)d for the same person") % {"line": first},
        )
        for line, first in cursor.fetchall()
    ]
    return found


# The most a case may owe in principal: its totals (principal, late fee, paid) must fit the
# money columns (16 digits, 2 decimals) with the late fee of decades on top.
CASE_PRINCIPAL_MAX = Decimal("1000000000000.00")


def _case_total_overflows(cursor: CursorWrapper) -> list[RowError]:
    """The first line of each unit at which the unit's open case would owe more than a case can
    hold (what it owes already counts)."""
    cursor.execute(
        f"""
        SELECT uscc, MIN(lineno) FROM (
            SELECT s.uscc, s.lineno,
                   SUM(s.employer_amount + s.employee_amount)
                       OVER (PARTITION BY s.uscc ORDER BY s.lineno)
                   + COALESCE((SELECT SUM(c.principal_unpaid) FROM {CASES} c
                               JOIN {UNITS} u ON u.id = c.unit_id
                               WHERE u.uscc = s.uscc AND c.state = %s), 0) AS total
            FROM {STAGING} s
        ) t WHERE total > CAST(%s AS NUMERIC) GROUP BY uscc
        """,
        [CaseState.REGISTERED, str(CASE_PRINCIPAL_MAX)],
    )
    return [
        RowError(
            line,
            "employer_amount",
            _("the unit's case would owe more than %(most)s, the most a case can hold")
            % {"most": CASE_PRINCIPAL_MAX},
        )
        for _uscc, line in sorted(cursor.fetchall(), key=lambda row: row[1])
    ]


# How often the import says how far it has read (`progress`), in rows.
PROGRESS_EVERY = 10_000


def arrears_import(
    *,
    file: IO[bytes],
    file_name: str,
    actor: Actor,
    today: date | None = None,
    progress: Progress | None = None,
) -> ArrearsImportResult:
    """Import an arrears file: all of it, or nothing (FileRejected lists every bad row).

    One pass: each row is checked as it streams into the staging table; the rules across rows
    are checked there; any error rolls the whole transaction back. `progress(stage, rows,
    fraction)` is told how far it is: while reading (every PROGRESS_EVERY rows, the fraction of
    the file's bytes read), then as it checks and writes.
    """
    require_permission(actor, "replenish.add_arrearsline")
    today = today or timezone.localdate()
    sha256 = file_digest(file)
    errors: list[RowError] = []
    reader = _RowReader(today=today, errors=errors)
    if progress is not None:
        reader.progress = progress_by_bytes(file, progress, every=PROGRESS_EVERY)
    with transaction.atomic(), connection.cursor() as cursor, text_stream(file) as text:
        create_temp_table(
            cursor,
            STAGING,
            "lineno integer, uscc varchar(18), unit_name varchar(200), region_code varchar(6),"
            " period varchar(7), id_number varchar(18), person_name varchar(100),"
            " base numeric(16,2), employer_amount numeric(16,2), employee_amount numeric(16,2),"
            " due_date date",
        )
        bulk_load(cursor, STAGING, STAGING_COLUMNS, reader(text))
        if progress is not None:
            progress("checking", reader.rows, None)
        errors += _cross_row_errors(cursor)
        if not errors:
            errors += _case_total_overflows(cursor)
        if errors:
            raise FileRejected(sorted(errors, key=lambda e: e.line))
        if progress is not None:
            progress("writing", reader.rows, None)
        result = _apply_staging(
            cursor, file_name=file_name, sha256=sha256, rows=reader.rows, actor=actor, today=today
        )
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    return result


def _conflicts(cursor: CursorWrapper) -> list[RowError]:
    """Rows already imported with other amounts: a correction is a ledger entry, not a re-import."""
    cursor.execute(
        f"""
        SELECT s.lineno, l.base, l.employer_amount, l.employee_amount, l.due_date,
               s.base, s.employer_amount, s.employee_amount, s.due_date
        FROM {STAGING} s
        JOIN {UNITS} u ON u.uscc = s.uscc
        JOIN {PERSONS} p ON p.id_number = s.id_number
        JOIN {LINES} l
          ON l.unit_id = u.id AND l.person_id = p.id AND l.period = s.period
         AND l.source_line_id IS NULL
        WHERE l.base <> s.base OR l.employer_amount <> s.employer_amount
           OR l.employee_amount <> s.employee_amount OR l.due_date <> s.due_date
        ORDER BY s.lineno
        """
    )
    found = []
    names = ("base", "employer_amount", "employee_amount", "due_date")
    for lineno, *values in cursor.fetchall():
        old, new = values[:4], values[4:]
        for name, was, now in zip(names, old, new, strict=True):
            if comparable(was) != comparable(now):
                found.append(
                    RowError(
                        lineno,
                        name,
                        _(
                            "already imported as %(value)s; a correction is posted to the "
                            "ledger, not re-imported"
                        )
                        % {"value": comparable(was)},
                    )
                )
    return found


def _apply_staging(
    cursor: CursorWrapper, *, file_name: str, sha256: str, rows: int, actor: Actor, today: date
) -> ArrearsImportResult:
    now = timezone.now()

    # Units and persons: created or updated, one statement each.
    cursor.execute(
        f"SELECT count(DISTINCT uscc) FROM {STAGING} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {UNITS} u WHERE u.uscc = s.uscc)"
    )
    units_created = cursor.fetchone()[0]
    cursor.execute(
        f"""
        INSERT INTO {UNITS} (uscc, name, region_code, status, created_at, updated_at)
        SELECT uscc, max(unit_name), max(region_code), 'active', %s, %s
        FROM {STAGING} GROUP BY uscc
        ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, region_code = excluded.region_code,
            updated_at = excluded.updated_at
        WHERE {UNITS}.name <> excluded.name OR {UNITS}.region_code <> excluded.region_code
        """,
        [now, now],
    )
    cursor.execute(
        f"""
        INSERT INTO {PERSONS} (id_number, name)
        SELECT id_number, max(person_name) FROM {STAGING} GROUP BY id_number
        ON CONFLICT (id_number) DO UPDATE SET name = excluded.name
        WHERE {PERSONS}.name <> excluded.name
        """
    )

    conflicts = _conflicts(cursor)
    if conflicts:
        raise FileRejected(conflicts)
    # Lines already imported with the same amounts are skipped: a re-import adds nothing.
    cursor.execute(
        f"""
        DELETE FROM {STAGING} WHERE EXISTS (
            SELECT 1 FROM {LINES} l
            JOIN {UNITS} u ON u.id = l.unit_id
            JOIN {PERSONS} p ON p.id = l.person_id
            WHERE u.uscc = {STAGING}.uscc AND p.id_number = {STAGING}.id_number
              AND l.period = {STAGING}.period AND l.source_line_id IS NULL)
        """
    )
    lines_skipped = cursor.rowcount

    batch = ImportBatch.objects.create(
        file_name=file_name[:255],
        sha256=sha256,
        rows=rows,
        lines_created=0,
        lines_skipped=lines_skipped,
        cases_opened=0,
        actor_label=actor_label(actor),
    )

    # A unit's lines join its open case in state `registered`, or open a new case. A unit that
    # merged, went bankrupt or was auctioned owes through its successor (`obligor`), and a
    # bankrupt unit's late fee stops the day before the court's acceptance, for late-arriving
    # lines too.
    cursor.execute(
        f"""
        SELECT count(*) FROM {UNITS} u
        WHERE u.uscc IN (SELECT uscc FROM {STAGING})
          AND NOT EXISTS (SELECT 1 FROM {CASES} c
                          WHERE c.unit_id = u.id AND c.state = %s
                            AND c.predecessor_id IS NULL)
        """,
        [CaseState.REGISTERED],
    )
    cases_needed = cursor.fetchone()[0]
    if cases_needed:
        first = number_block_take(scope=case_scope(today.year), count=cases_needed)
        number = zero_padded(
            f"row_number() OVER (ORDER BY u.uscc) + {first - 1}", CASE_SEQUENCE_DIGITS
        )
        cursor.execute(
            f"""
            INSERT INTO {CASES}
                (case_no, unit_id, region_code, state, state_changed_at, state_before_writeoff,
                 opened_on, import_batch_id, principal_assessed, principal_unpaid, fee_unpaid,
                 paid_total, written_off_total, transferred_total, obligor_id,
                 bankruptcy_fee_stop)
            SELECT %s || {number}, u.id, u.region_code, %s, %s, '', %s, %s, 0, 0, 0, 0, 0, 0,
                   u.obligor_id,
                   -- owed by a liquidation group: the fee stops where its bankrupt unit's does
                   (SELECT bankrupt.fee_stops_on
                    FROM {PARTIES} party
                    JOIN {EVENTS} event ON event.id = party.event_id
                    JOIN {UNITS} bankrupt ON bankrupt.id = event.unit_id
                    WHERE party.id = u.obligor_id AND party.kind = %s)
            FROM {UNITS} u
            WHERE u.uscc IN (SELECT uscc FROM {STAGING})
              AND NOT EXISTS (SELECT 1 FROM {CASES} c
                              WHERE c.unit_id = u.id AND c.state = %s
                                AND c.predecessor_id IS NULL)
            """,
            [
                case_number_prefix(today.year),
                CaseState.REGISTERED,
                now,
                today,
                batch.pk,
                CounterpartyKind.LIQUIDATION_GROUP,
                CaseState.REGISTERED,
            ],
        )
        audit_record_set(
            ArrearsCase.objects.filter(import_batch_id=batch.pk),
            "open",
            actor=actor,
            reason=Reason("arrears_imported", file=file_name[:400]),
            at=now,
        )

    cursor.execute(
        f"""
        INSERT INTO {LINES}
            (case_id, unit_id, person_id, period, base, employer_amount, employee_amount,
             due_date, source_line_id, import_batch_id, employer_unpaid, employee_unpaid,
             fee_unpaid, fee_fixed_total, fee_accrues_after, fee_stops_on)
        SELECT c.id, u.id, p.id, s.period, s.base, s.employer_amount, s.employee_amount,
               s.due_date, NULL, %s, s.employer_amount, s.employee_amount, 0, 0, s.due_date,
               c.bankruptcy_fee_stop
        FROM {STAGING} s
        JOIN {UNITS} u ON u.uscc = s.uscc
        JOIN {PERSONS} p ON p.id_number = s.id_number
        JOIN {CASES} c
          ON c.unit_id = u.id AND c.state = %s AND c.predecessor_id IS NULL
        ORDER BY s.lineno
        """,
        [batch.pk, CaseState.REGISTERED],
    )
    lines_created = cursor.rowcount
    ledger_post_assessed(
        ArrearsLine.objects.filter(import_batch_id=batch.pk),
        actor=actor,
        source=f"import:{batch.pk}",
    )
    case_totals_refresh(
        ArrearsCase.objects.filter(lines__import_batch=batch).values("pk").distinct()
    )
    cases_opened = ArrearsCase.objects.filter(import_batch=batch).count()
    if lines_created == 0:
        # A file already imported adds nothing, not even a record of itself.
        ImportBatch.objects.filter(pk=batch.pk).delete()
        batch.pk = None
    else:
        ImportBatch.objects.filter(pk=batch.pk).update(
            lines_created=lines_created, cases_opened=cases_opened
        )
    return ArrearsImportResult(
        batch_id=batch.pk,
        rows=rows,
        lines_created=lines_created,
        lines_skipped=lines_skipped,
        cases_opened=cases_opened,
        units_created=units_created,
    )


# --- preview -----------------------------------------------------------------------------------

# The preview lists what will happen to each new line, the first PREVIEW_MAX of them (a file of a
# million lines is summed up, not listed whole).
PREVIEW_MAX = 10_000


class _RolledBack(Exception):
    def __init__(self, outcome: tuple[ArrearsImportResult, list[dict[str, Any]]]) -> None:
        self.outcome = outcome


def arrears_import_preview(
    *,
    file: IO[bytes],
    file_name: str,
    actor: Actor,
    progress: Progress | None = None,
) -> tuple[ArrearsImportResult, list[dict[str, Any]]]:
    """The import run and rolled back: what it would do, and the first PREVIEW_MAX lines it
    would create, each with the case it would join or open (ID numbers masked). FileRejected as
    the import itself."""
    try:
        with transaction.atomic():
            result = arrears_import(file=file, file_name=file_name, actor=actor, progress=progress)
            raise _RolledBack((result, _preview_rows(result)))
    except _RolledBack as rolled_back:
        outcome: tuple[ArrearsImportResult, list[dict[str, Any]]] = rolled_back.outcome
        return outcome


def _preview_rows(result: ArrearsImportResult) -> list[dict[str, Any]]:
    if result.batch_id is None:
        return []
    lines = (
        ArrearsLine.objects.filter(import_batch_id=result.batch_id)
        .order_by("pk")
        .values(
            "unit__uscc",
            "unit__name",
            "person__name",
            "person__id_number",
            "period",
            "employer_amount",
            "employee_amount",
            "due_date",
            "case__case_no",
            "case__import_batch_id",
        )[:PREVIEW_MAX]
    )
    return [
        {
            "unit": f"{line['unit__name']} ({line['unit__uscc']})",
            "person": line["person__name"],
            "id_number": mask_id_number(line["person__id_number"]),
            "period": line["period"],
            "employer": str(line["employer_amount"]),
            "employee": str(line["employee_amount"]),
            "due_date": line["due_date"].isoformat(),
            "case": line["case__case_no"],
            "opens": line["case__import_batch_id"] == result.batch_id,
        }
        for line in lines
    ]
