"""What a case owes today, as one SQL expression: for lists that sort by it and totals over every
case, where reading every line into Python (`selectors.owed_by_case`) would not scale.

It is the money rules of `kernel.money.late_fee` (`line_fee_due`) written in integer fen, so it
is exact on PostgreSQL and SQLite alike: per line, the fee accrued since `fee_accrues_after`
through the as-of date (or `fee_stops_on`) is principal (fen) × daily rate (millionths) × days,
split at the rate table's changes, rounded half-up to the fen; plus the fixed fee unpaid and the
principal unpaid; capped as the policy says; summed per case. `tests/backoffice/
test_owed_today.py` holds it equal to the Python rules on cases in every situation.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, DateField, Min, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL

from kernel.money import LateFeePolicy
from replenish.models import ArrearsCase, ArrearsLine
from replenish.selectors import Owed, late_fee_policy

_MILLION = 1_000_000
LINES = ArrearsLine._meta.db_table


def _sql(postgres: bool) -> dict:
    if postgres:
        return {
            "max": "GREATEST",
            "min": "LEAST",
            "days": "({a} - {b})",
            "int": "CAST({x} AS BIGINT)",
            "date": "CAST(%s AS DATE)",
        }
    return {
        "max": "MAX",
        "min": "MIN",
        "days": "CAST(julianday({a}) - julianday({b}) AS INTEGER)",
        "int": "CAST({x} AS INTEGER)",
        "date": "%s",
    }


def line_owed_fen_sql(alias: str, *, as_of: date, policy: LateFeePolicy) -> tuple[str, list]:
    """SQL (and its parameters) of what one line (table alias `alias`) owes as of `as_of`, in
    fen: principal unpaid + fixed fee unpaid + fee accrued since it was last fixed."""
    f = _sql(connection.vendor == "postgresql")
    params: list = []

    def param(value) -> str:
        params.append(value)
        return f["date"] if isinstance(value, date) else "%s"

    def fen(column: str) -> str:
        return f["int"].format(x=f"ROUND({column} * 100)")

    principal = fen(f"({alias}.employer_unpaid + {alias}.employee_unpaid)")

    def through() -> str:  # placeholders in the order of the text: written each time used
        return f"{f['min']}({param(as_of)}, COALESCE({alias}.fee_stops_on, {param(as_of)}))"

    pieces = []
    table = policy.rate_table
    for index, period in enumerate(table):
        millionths = period.daily_rate * _MILLION
        if millionths != millionths.to_integral_value():
            raise ValueError(f"daily rate {period.daily_rate} is finer than a millionth")
        if index + 1 < len(table):
            end = (
                f"{f['min']}({through()}, {param(table[index + 1].starts_on - timedelta(days=1))})"
            )
        else:
            end = through()
        last = f"{alias}.fee_accrues_after"
        if period.starts_on != date.min:
            last = f"{f['max']}({last}, {param(period.starts_on - timedelta(days=1))})"
        days = f["days"].format(a=end, b=last)
        pieces.append(f"{int(millionths)} * {f['max']}(0, {days})")
    accrued = f"(({principal}) * ({' + '.join(pieces)}) + {_MILLION // 2}) / {_MILLION}"
    if policy.cap_at_principal:
        room = fen(f"({alias}.employer_amount + {alias}.employee_amount - {alias}.fee_fixed_total)")
        accrued = f"{f['min']}({accrued}, {f['max']}({room}, 0))"
    return f"({principal} + {fen(f'{alias}.fee_unpaid')} + {accrued})", params


def case_owed_fen(as_of: date, *, case_column: str = "replenish_arrearscase.id") -> RawSQL:
    """An annotation: what the case (of the outer query) owes as of `as_of`, in fen."""
    line, params = line_owed_fen_sql("l", as_of=as_of, policy=late_fee_policy())
    return RawSQL(
        f"(SELECT COALESCE(SUM({line}), 0) FROM {LINES} l WHERE l.case_id = {case_column})",
        params,
        output_field=BigIntegerField(),
    )


def total_owed(as_of: date, lines=None) -> Decimal:
    """What every line of `lines` (default all) owes as of `as_of`, in yuan, in one query."""
    line, params = line_owed_fen_sql("l", as_of=as_of, policy=late_fee_policy())
    where, where_params = "", []
    if lines is not None:
        select, where_params = lines.values("pk").query.sql_with_params()
        where = f"WHERE l.id IN ({select})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM({line}), 0) FROM {LINES} l {where}", [*params, *where_params]
        )
        (fen,) = cursor.fetchone()
    return fen_to_yuan(fen)


UNPAID = Q(employer_unpaid__gt=0) | Q(employee_unpaid__gt=0) | Q(fee_unpaid__gt=0)


def oldest_unpaid_due() -> Subquery:
    """An annotation: the due date of the case's oldest month still unpaid (None when none)."""
    return Subquery(
        ArrearsLine.objects.filter(UNPAID, case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(oldest=Min("due_date"))
        .values("oldest")[:1],
        output_field=DateField(),
    )


# Of a line (alias `l`): its principal unpaid in fen, and whether it owes anything.
PRINCIPAL_FEN = "ROUND((l.employer_unpaid + l.employee_unpaid) * 100)"
LINE_UNPAID = "(l.employer_unpaid > 0 OR l.employee_unpaid > 0 OR l.fee_unpaid > 0)"


def fen_to_yuan(fen) -> Decimal:
    return Decimal(int(fen or 0)).scaleb(-2)


def case_owed_summed(case_id: int, *, as_of: date) -> Owed:
    """What one case owes as of `as_of`, principal unpaid and late fee, summed by the database in
    one query: the figure of `selectors.case_owed` (tests hold the two equal, line by line), for
    the case page, which would otherwise read each of a case's thousands of lines into Python."""
    line, params = line_owed_fen_sql("l", as_of=as_of, policy=late_fee_policy())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM({PRINCIPAL_FEN}), 0), COALESCE(SUM({line}), 0) FROM {LINES} l "
            f"WHERE l.case_id = %s AND {LINE_UNPAID}",
            [*params, case_id],
        )
        principal_fen, owed_fen = cursor.fetchone()
    return Owed(fen_to_yuan(principal_fen), fen_to_yuan(owed_fen) - fen_to_yuan(principal_fen))


def owed_by_case_state(as_of: date) -> dict[str, Decimal]:
    """{case state: what its cases owe as of `as_of`}, in one pass over the lines."""
    return _owed_by_case_column("state", as_of)


def owed_by_region(as_of: date) -> dict[str, Decimal]:
    """{region code: what its cases owe as of `as_of`}, in one pass over the lines."""
    return _owed_by_case_column("region_code", as_of)


def _owed_by_case_column(column: str, as_of: date) -> dict[str, Decimal]:
    line, params = line_owed_fen_sql("l", as_of=as_of, policy=late_fee_policy())
    cases = ArrearsCase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.{column}, COALESCE(SUM({line}), 0) FROM {LINES} l "
            f"JOIN {cases} c ON c.id = l.case_id GROUP BY c.{column}",
            params,
        )
        return {value: fen_to_yuan(fen) for value, fen in cursor.fetchall()}


def aging_by_oldest_month(as_of: date, buckets) -> dict[str, dict]:
    """Per bucket (key, label, fewest days, most days or None) of the case list's days-overdue
    filter: the cases whose oldest unpaid month fell due within it, their principal unpaid and
    what they owe as of `as_of`. A case counts once, in the bucket of its oldest month, exactly
    as the filter lists it."""
    found = {bucket: figures for (_region, bucket), figures in _aging(as_of, buckets).items()}
    return {key: found.get(key, dict(EMPTY_AGING)) for key, _label, _low, _high in buckets}


def aging_by_region(as_of: date, buckets) -> dict[tuple[str, str], dict]:
    """`aging_by_oldest_month` per region code of the case: {(region, bucket): figures}, the
    (region, bucket) pairs that have cases."""
    return _aging(as_of, buckets, by_region=True)


EMPTY_AGING = {"cases": 0, "principal": Decimal("0.00"), "owed": Decimal("0.00")}


def _aging(as_of: date, buckets, *, by_region: bool = False) -> dict[tuple[str, str], dict]:
    line, params = line_owed_fen_sql("l", as_of=as_of, policy=late_fee_policy())
    f = _sql(connection.vendor == "postgresql")
    whens, when_params = [], []
    for key, _label, low, high in buckets:
        condition = f"oldest <= {f['date']}"
        when_params.append(as_of - timedelta(days=low))
        if high is not None:
            condition += f" AND oldest >= {f['date']}"
            when_params.append(as_of - timedelta(days=high))
        whens.append(f"WHEN {condition} THEN %s")
        when_params.append(key)
    region, join, group = "''", "", "l.case_id"
    if by_region:
        region = "MIN(c.region_code)"
        join = f"JOIN {ArrearsCase._meta.db_table} c ON c.id = l.case_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT region, bucket, COUNT(*), SUM(principal), SUM(owed) FROM (
                SELECT region, CASE {" ".join(whens)} END AS bucket, principal, owed FROM (
                    SELECT {region} AS region,
                           MIN(CASE WHEN {LINE_UNPAID} THEN l.due_date END) AS oldest,
                           SUM({PRINCIPAL_FEN}) AS principal, SUM({line}) AS owed
                    FROM {LINES} l {join} GROUP BY {group}
                ) per_case
            ) bucketed
            WHERE bucket IS NOT NULL GROUP BY region, bucket
            """,
            [*when_params, *params],
        )
        return {
            (region_code, key): {
                "cases": n,
                "principal": fen_to_yuan(p),
                "owed": fen_to_yuan(o),
            }
            for region_code, key, n, p, o in cursor.fetchall()
        }
