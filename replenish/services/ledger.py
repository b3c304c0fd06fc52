"""The case's cached figures, recomputed from its append-only ledger.

What a case owes = assessed principal + fixed late fees − applied − written off − transferred,
line by line and portion by portion; the database refuses an entry that takes a portion below zero.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_label, actor_user
from kernel.money import FEN, LateFeePolicy, LineFeeState, fee_to_fix
from kernel.sql import ids_in, is_postgres, json_prepared, rows_insert
from replenish.models import ArrearsCase, ArrearsLine, LedgerEntry, LedgerKind
from replenish.reasons import Reason, reason_split
from replenish.selectors import LINE_FEE_FIELDS, late_fee_policy, line_fee_state

CASE_FIGURES = (
    "principal_assessed",
    "principal_unpaid",
    "fee_unpaid",
    "paid_total",
    "written_off_total",
    "transferred_total",
)
# The tables the SQL below names, from the models: a rename cannot silently break it.
CASES, LINES, LEDGER = (m._meta.db_table for m in (ArrearsCase, ArrearsLine, LedgerEntry))
LINE_FIGURES = ("employer_unpaid", "employee_unpaid", "fee_unpaid", "fee_fixed_total")

_K = LedgerKind
# Each cached figure as an aggregate over the ledger entries of its case or line.
CASE_FIGURE_SQL = {
    "principal_assessed": (
        f"SUM(CASE WHEN kind IN ('{_K.ASSESSED}', '{_K.CORRECTION}') "
        f"OR (kind = '{_K.TRANSFERRED}' AND employer + employee > 0) "
        "THEN employer + employee ELSE 0 END)"
    ),
    "principal_unpaid": "SUM(employer + employee)",
    "fee_unpaid": "SUM(late_fee)",
    "paid_total": (
        f"-SUM(CASE WHEN kind IN ('{_K.PAYMENT_APPLIED}', '{_K.PAYMENT_REVERSED}') "
        "THEN employer + employee + late_fee ELSE 0 END)"
    ),
    "written_off_total": (
        f"-SUM(CASE WHEN kind = '{_K.WRITTEN_OFF}' THEN employer + employee + late_fee ELSE 0 END)"
    ),
    "transferred_total": (
        f"-SUM(CASE WHEN kind = '{_K.TRANSFERRED}' AND employer + employee + late_fee < 0 "
        "THEN employer + employee + late_fee ELSE 0 END)"
    ),
}
LINE_FIGURE_SQL = {
    "employer_unpaid": "SUM(employer)",
    "employee_unpaid": "SUM(employee)",
    "fee_unpaid": "SUM(late_fee)",
    # A correction recomputes the fee fixed on its line (issue 13, rule 4).
    "fee_fixed_total": (
        f"SUM(CASE WHEN kind IN ('{_K.LATE_FEE_FIXED}', '{_K.CORRECTION}') "
        "THEN late_fee ELSE 0 END)"
    ),
}


def _rounded(expression: str) -> str:
    # SQLite keeps decimals as binary floats: round the sums back to the fen.
    return f"ROUND({expression}, 2)"


def case_totals_refresh(case_ids: QuerySet[Any] | list[int]) -> None:
    """Recompute the cached figures of these cases from the ledger: one UPDATE for the whole set."""
    ids_sql, params = _ids_subquery(case_ids)
    assignments = ", ".join(f"{name} = agg.{name}" for name in CASE_FIGURES)
    aggregates = ", ".join(f"{_rounded(sql)} AS {name}" for name, sql in CASE_FIGURE_SQL.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {CASES} SET {assignments}
            FROM (SELECT case_id, {aggregates} FROM {LEDGER}
                  WHERE {ids_sql} GROUP BY case_id) agg
            WHERE {CASES}.id = agg.case_id
            """,
            params,
        )


def _ids_subquery(case_ids: QuerySet[Any] | list[int]) -> tuple[str, list[Any]]:
    """The WHERE of the ledger entries of these cases."""
    if isinstance(case_ids, QuerySet):
        sql, params = case_ids.order_by().query.sql_with_params()
        return f"case_id IN ({sql})", list(params)
    return ids_in("case_id", case_ids)


@dataclass(frozen=True)
class Difference:
    case_no: str
    figure: str
    cached: Decimal
    from_ledger: Decimal
    line_id: int | None = None

    def __str__(self) -> str:
        where = (
            _("%(case)s line %(line)d") % {"case": self.case_no, "line": self.line_id}
            if self.line_id
            else self.case_no
        )
        return _("%(where)s: %(figure)s cached %(cached)s, ledger says %(ledger)s") % {
            "where": where,
            "figure": self.figure,
            "cached": self.cached,
            "ledger": self.from_ledger,
        }


def ledger_differences(case_ids: list[int] | None = None) -> list[Difference]:
    """Every cached figure of a case or a line that its ledger does not explain."""
    where = ""
    params: list[Any] = []
    if case_ids is not None:
        condition, params = ids_in("c.id", case_ids)
        where = f"WHERE {condition}"
    case_aggs = ", ".join(f"{_rounded(sql)} AS {name}" for name, sql in CASE_FIGURE_SQL.items())
    line_aggs = ", ".join(f"{_rounded(sql)} AS {name}" for name, sql in LINE_FIGURE_SQL.items())
    found: list[Difference] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.case_no, {", ".join(f"c.{n}" for n in CASE_FIGURES)},
                   {", ".join(f"COALESCE(agg.{n}, 0)" for n in CASE_FIGURES)}
            FROM {CASES} c
            LEFT JOIN (SELECT case_id, {case_aggs} FROM {LEDGER} GROUP BY case_id)
                 agg ON agg.case_id = c.id
            {where}
            ORDER BY c.case_no
            """,
            params,
        )
        for case_no, *values in cursor.fetchall():
            cached, ledger = values[: len(CASE_FIGURES)], values[len(CASE_FIGURES) :]
            for name, a, b in zip(CASE_FIGURES, cached, ledger, strict=True):
                if _money(a) != _money(b):
                    found.append(Difference(case_no, name, _money(a), _money(b)))
        cursor.execute(
            f"""
            SELECT c.case_no, l.id, {", ".join(f"l.{n}" for n in LINE_FIGURES)},
                   {", ".join(f"COALESCE(agg.{n}, 0)" for n in LINE_FIGURES)}
            FROM {LINES} l
            JOIN {CASES} c ON c.id = l.case_id
            LEFT JOIN (SELECT line_id, {line_aggs} FROM {LEDGER} GROUP BY line_id)
                 agg ON agg.line_id = l.id
            {where}
            ORDER BY c.case_no, l.id
            """,
            params,
        )
        for case_no, line_id, *values in cursor.fetchall():
            cached, ledger = values[: len(LINE_FIGURES)], values[len(LINE_FIGURES) :]
            for name, a, b in zip(LINE_FIGURES, cached, ledger, strict=True):
                if _money(a) != _money(b):
                    found.append(Difference(case_no, name, _money(a), _money(b), line_id))
    return found


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(FEN)


def ledger_caches_rebuild() -> None:
    """Set every cached figure to what the ledger says (`check_ledger --fix`)."""
    line_caches_refresh(None)
    case_totals_refresh(ArrearsCase.objects.values("pk"))


# --- posting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """One ledger entry to append: signed portions of one line (positive adds to the debt)."""

    case_id: int
    line_id: int
    kind: str
    effective_on: date
    source: str
    employer: Decimal = Decimal("0.00")
    employee: Decimal = Decimal("0.00")
    late_fee: Decimal = Decimal("0.00")
    reason: Reason | str = ""


# The columns of an entry `ledger_post` writes, in the order of its rows. `recorded_at` is left
# to the database on PostgreSQL (`_database_records_the_time`).
ENTRY_COLUMNS = (
    *("case_id", "line_id", "kind", "employer", "employee", "late_fee"),
    *("effective_on", "actor_id", "actor_label", "source", "reason", "reason_code", "reason_args"),
)


def _database_records_the_time() -> bool:
    """Whether the database writes an entry's `recorded_at` (its column default, `now()`). On
    PostgreSQL: the start of the entry's transaction by the database's clock, which the paid-month
    feed compares with the start of the transactions open when it read the ledger
    (`changes.oldest_open_transaction_start`), so no margin for the web and worker hosts' clocks
    is needed, and no query asks for the time. On SQLite, one machine and one writer at a time:
    the process's clock, written with the entry."""
    return is_postgres()


def ledger_post(postings: Sequence[Posting], *, actor: Actor) -> int:
    """Append entries and bring the cached figures of their lines and cases up to date; returns
    the number of entries appended (a posting of nothing appends none).

    Runs in the caller's transaction, after the caller has locked the cases (then the lines) it
    changes. The caches are recomputed from the ledger, so they can only agree with it; the
    database refuses an entry that takes a portion of a line below zero.
    """
    if not postings:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside the service's transaction")
    user, label = actor_user(actor), actor_label(actor)
    user_id = user.pk if user is not None else None
    # A reason is shared by the entries of one arrival, offset or signing: its columns are made
    # once (the postings hold the reasons, so their ids stay theirs while this runs).
    reasons: dict[int, tuple[str, str, Any]] = {}
    for p in postings:
        if id(p.reason) not in reasons:
            text, code, args = reason_split(p.reason)
            reasons[id(p.reason)] = (text, code, json_prepared(args))
    rows = [
        (
            *(p.case_id, p.line_id, p.kind, p.employer, p.employee, p.late_fee),
            *(p.effective_on, user_id, label, p.source, *reasons[id(p.reason)]),
        )
        for p in postings
        if p.employer or p.employee or p.late_fee
    ]
    if _database_records_the_time():
        # COPY: posting a batch of arrivals writes tens of thousands of entries.
        rows_insert(LedgerEntry, ENTRY_COLUMNS, rows, database_fills=("recorded_at",))
    else:
        now = timezone.now()
        rows_insert(LedgerEntry, (*ENTRY_COLUMNS, "recorded_at"), [(*row, now) for row in rows])
    line_caches_refresh(sorted({p.line_id for p in postings}))
    case_totals_refresh(sorted({p.case_id for p in postings}))
    return len(rows)


def ledger_post_assessed(lines: QuerySet[ArrearsLine], *, actor: Actor, source: str) -> int:
    """The set-based `ledger_post` of an import: one `assessed` entry for each of these lines
    (their two portions, effective on the due date), with one INSERT … SELECT; returns the number
    of entries appended.

    The import inserts the lines with their cached figures already what these entries say, so
    only the cases' totals are left for the caller to refresh (`case_totals_refresh`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post_assessed must run inside the service's transaction")
    select, params = (
        lines.order_by("pk")
        .values_list("case_id", "pk", "employer_amount", "employee_amount", "due_date")
        .query.sql_with_params()
    )
    column = {f.name: f.column for f in LedgerEntry._meta.concrete_fields}
    columns = ", ".join(
        column[name]
        for name in (
            *("kind", "late_fee", "recorded_at", "actor", "actor_label", "source", "reason"),
            *("case", "line", "employer", "employee", "effective_on"),
        )
    )
    user = actor_user(actor)
    # The database's clock (`_database_records_the_time`), or the process's as a parameter.
    recorded_at, clock = (
        ("now()", [])
        if _database_records_the_time()
        else ("%s", [connection.ops.adapt_datetimefield_value(timezone.now())])
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LEDGER} ({columns}) "
            f"SELECT %s, 0, {recorded_at}, %s, %s, %s, '', assessed.* FROM ({select}) assessed",
            [
                LedgerKind.ASSESSED,
                *clock,
                user.pk if user is not None else None,
                actor_label(actor),
                source,
                *params,
            ],
        )
        appended: int = cursor.rowcount
        return appended


def line_caches_refresh(line_ids: list[int] | None) -> None:
    """Recompute the cached figures of these lines (None: every line) from the ledger: one
    UPDATE."""
    if line_ids is not None and not line_ids:
        return
    assignments = ", ".join(f"{name} = agg.{name}" for name in LINE_FIGURES)
    aggregates = ", ".join(f"{_rounded(sql)} AS {name}" for name, sql in LINE_FIGURE_SQL.items())
    where, params = "", list[Any]()
    if line_ids is not None:
        condition, params = ids_in("line_id", line_ids)
        where = f"WHERE {condition}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {LINES} SET {assignments}
            FROM (SELECT line_id, {aggregates} FROM {LEDGER}
                  {where} GROUP BY line_id) agg
            WHERE {LINES}.id = agg.line_id
            """,
            params,
        )


def restored_fee_posting(
    line: ArrearsLine,
    *,
    restored: Decimal,
    since: date,
    on: date,
    source: str,
    reason: Reason | str,
    policy: LateFeePolicy,
) -> Posting | None:
    """Money taken back from a line (a reversed arrival, an offset undone) restores principal
    the fee had stopped running on. The days from `since` to the line's current accrual start
    were fixed meanwhile on the smaller principal: the fee on the restored part for those days,
    as a `late_fee_fixed` entry, or None (later days accrue on the whole principal as usual)."""
    if not restored or line.fee_accrues_after <= since:
        return None
    missed = fee_to_fix(
        LineFeeState(
            principal_unpaid=restored,
            fee_unpaid=Decimal("0.00"),
            fee_fixed_total=line.fee_fixed_total,
            assessed_principal=line.employer_amount + line.employee_amount,
            accrues_after=since,
            stops_on=line.fee_stops_on,
        ),
        as_of=line.fee_accrues_after,
        policy=policy,
    )
    if not missed:
        return None
    return Posting(
        case_id=line.case_id,
        line_id=line.pk,
        kind=LedgerKind.LATE_FEE_FIXED,
        effective_on=on,
        source=source,
        late_fee=missed,
        reason=Reason(
            "late_fee_on_restored_principal", since=since, to=line.fee_accrues_after, why=reason
        ),
    )


def lines_fee_fix(
    lines: Sequence[ArrearsLine], *, on: date, actor: Actor, source: str, reason: Reason | str = ""
) -> list[Posting]:
    """Fix the late fee accrued on these (locked) lines through `on`: post it, rounded per line,
    as `late_fee_fixed`, and move each line's accrual start to `on` (the rules: the fee is posted
    only when it becomes fixed — agreement signed, payment allocated, claim, write-off).

    Returns the postings made. The line objects are updated in place.
    """
    moved = [line.pk for line in lines if on > line.fee_accrues_after]
    postings = lines_fee_plan(lines, on=on, source=source, reason=reason)
    if moved:
        ArrearsLine.objects.filter(pk__in=moved).update(fee_accrues_after=on)
    ledger_post(postings, actor=actor)
    return postings


def lines_fee_plan(
    lines: Sequence[ArrearsLine], *, on: date, source: str, reason: Reason | str = ""
) -> list[Posting]:
    """What `lines_fee_fix` does, in memory only: the postings that fix the fee through `on`,
    with the line objects' fee figures and accrual start moved as they will be.

    For callers that plan many fixes (one per arrival of a batch) and write them at once.
    """
    policy = late_fee_policy()
    postings = []
    for line in lines:
        state = line_fee_state(*(getattr(line, name) for name in LINE_FEE_FIELDS))
        amount = fee_to_fix(state, as_of=on, policy=policy)
        if amount:
            postings.append(
                Posting(
                    case_id=line.case_id,
                    line_id=line.pk,
                    kind=LedgerKind.LATE_FEE_FIXED,
                    effective_on=on,
                    source=source,
                    late_fee=amount,
                    reason=reason,
                )
            )
            line.fee_unpaid += amount
            line.fee_fixed_total += amount
        if on > line.fee_accrues_after:
            line.fee_accrues_after = on
    return postings
