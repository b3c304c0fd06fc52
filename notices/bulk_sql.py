"""Set-based issuing on PostgreSQL (issue 21): the notices of a batch of cases inserted by one
INSERT … SELECT, each snapshot assembled by the database (`jsonb_build_object`, `jsonb_agg`) and
the late fee of each line computed in SQL, exactly as `notices.services._snapshot` and
`kernel.money.line_fee_due` do in Python (a test compares both paths row by row, and a
hypothesis property the fee of random lines).

The numbers are taken in Python (one block per region) and passed in as arrays; nothing of the
notices is read back but what the delivery messages need.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from kernel.money import DEFAULT_RATE_TABLE
from notices.documents import appeal, payee
from notices.models import Notice
from replenish.models import ArrearsCase, ArrearsLine
from units.models import InsuredPerson, Unit

# The tables the SQL names, from the models: a rename cannot silently break it.
NOTICES, CASES, LINES = (
    Notice._meta.db_table,
    ArrearsCase._meta.db_table,
    ArrearsLine._meta.db_table,
)
UNITS, PERSONS = Unit._meta.db_table, InsuredPerson._meta.db_table


def fee_due_sql(*, as_of: str, cap: bool, line: str = "l") -> str:
    """SQL of `line_fee_due` for the arrears line aliased `line` as of the date parameter
    `as_of` (a placeholder or literal): the fixed fee unpaid plus the fee accrued since it was
    last fixed, on the principal unpaid, at the rate in force on each day, through the day
    accrual stops, rounded half-up to the fen, capped under the cap at what the assessment leaves
    room for. PostgreSQL's numeric is exact and rounds half away from zero (half-up here: no
    amount is negative)."""
    through = (
        f"(CASE WHEN {line}.fee_stops_on IS NULL THEN {as_of}::date "
        f"ELSE LEAST({as_of}::date, {line}.fee_stops_on) END)"
    )
    pieces = []
    table = DEFAULT_RATE_TABLE
    for index, period in enumerate(table):
        # the days d with accrues_after < d <= through inside the period
        after = (
            f"{line}.fee_accrues_after"
            if index == 0
            else f"GREATEST({line}.fee_accrues_after, "
            f"DATE '{(period.starts_on - timedelta(days=1)).isoformat()}')"
        )
        last = (
            through
            if index + 1 == len(table)
            else f"LEAST({through}, "
            f"DATE '{(table[index + 1].starts_on - timedelta(days=1)).isoformat()}')"
        )
        pieces.append(f"{period.daily_rate}::numeric * GREATEST(0, {last} - {after})")
    accrued = (
        f"(({line}.employer_unpaid + {line}.employee_unpaid) * ({' + '.join(pieces)}))::numeric"
    )
    fee = f"ROUND({accrued}, 2)"
    if cap:
        room = (
            f"GREATEST({line}.employer_amount + {line}.employee_amount - {line}.fee_fixed_total, 0)"
        )
        fee = f"LEAST({fee}, {room})"
    return f"ROUND({line}.fee_unpaid + {fee}, 2)"


def _masked(column: str) -> str:
    """`units.identifiers.mask_id_number` of a normalized ID number."""
    return (
        f"(CASE WHEN length({column}) IN (15, 18) THEN "
        f"left({column}, 6) || repeat('*', length({column}) - 10) || right({column}, 4) "
        f"ELSE repeat('*', length({column})) END)"
    )


def snapshot_constants(*, issued_on: date, cap: bool) -> tuple[dict, dict]:
    """The parts of every snapshot of the day that do not depend on the case, as
    `_snapshot` writes them: the top-level keys, and the late-fee rule without its daily amount."""
    rates = [
        {
            "from": None if p.starts_on == date.min else p.starts_on.isoformat(),
            "daily_rate": str(p.daily_rate),
        }
        for p in DEFAULT_RATE_TABLE
    ]
    daily_rate = next(
        p.daily_rate for p in reversed(DEFAULT_RATE_TABLE) if p.starts_on <= issued_on
    )
    rule = {
        "rates": rates,
        "accrues": "daily on the unpaid principal until paid",
        "from": (issued_on + timedelta(days=1)).isoformat(),
        "daily_rate": str(daily_rate),
        "cap_at_principal": cap,
    }
    top = {
        "issued_on": issued_on.isoformat(),
        "deadline": None,
        "deadline_rule": {
            "working_days": settings.NOTICE_DEADLINE_WORKING_DAYS,
            "from": "delivery",
        },
        "agency": {
            "name": settings.AGENCY_NAME,
            "contact": settings.AGENCY_CONTACT,
            "address": settings.AGENCY_ADDRESS,
        },
        "payee": payee(),
        "appeal": appeal(),
    }
    return top, rule


def notices_insert_select(
    *,
    numbered: list[tuple[int, str, int]],
    issued_on: date,
    state: str,
    cap: bool,
    legal_basis: str,
    payment_channels: list[str],
) -> None:
    """Insert the notices of `numbered` (case id, number, sequence) issued on `issued_on` in
    `state`, with their snapshots, in one statement."""
    top, rule = snapshot_constants(issued_on=issued_on, cap=cap)
    top = {**top, "legal_basis": legal_basis, "payment_channels": payment_channels}
    daily_rate = rule["daily_rate"]
    # The columns left to their defaults (nothing delivered or acknowledged yet), as Django
    # would insert them.
    defaults = {
        f.column: f.get_default()
        for f in Notice._meta.concrete_fields
        if f.column
        in (
            "deadline",
            "delivered_on",
            "delivery_channel",
            "delivery_proof",
            "delivery_note",
            "acknowledged_at",
            "acknowledged_by",
        )
    }
    default_columns = sorted(defaults)
    fee = fee_due_sql(as_of="%(issued_on)s", cap=cap)
    sql = f"""
WITH numbered AS (
    SELECT * FROM unnest(%(case_ids)s::bigint[], %(numbers)s::text[], %(sequences)s::int[])
        AS n(case_id, number, sequence)
), lines AS (
    SELECT l.case_id, l.id, l.period, l.due_date, l.employer_unpaid, l.employee_unpaid,
           p.name AS person_name, {_masked("p.id_number")} AS id_masked,
           {fee} AS line_fee,
           (l.fee_stops_on IS NULL OR l.fee_stops_on > %(issued_on)s::date) AS accruing
    FROM {LINES} l
    JOIN {PERSONS} p ON p.id = l.person_id
    WHERE l.case_id IN (SELECT case_id FROM numbered)
      AND NOT (l.employer_unpaid = 0 AND l.employee_unpaid = 0 AND l.fee_unpaid = 0)
), periods AS (
    SELECT case_id, period, sum(employer_unpaid) AS employer, sum(employee_unpaid) AS employee,
           sum(line_fee) AS fee
    FROM lines GROUP BY case_id, period
), by_period AS (
    SELECT case_id, jsonb_agg(jsonb_build_object(
        'period', period, 'employer', employer::text, 'employee', employee::text,
        'late_fee', fee::text, 'total', (employer + employee + fee)::text) ORDER BY period) AS rows
    FROM periods GROUP BY case_id
), by_case AS (
    SELECT case_id,
        jsonb_agg(jsonb_build_object(
            'period', period, 'person', person_name, 'id_number', id_masked,
            'due_date', to_char(due_date, 'YYYY-MM-DD'), 'employer', employer_unpaid::text,
            'employee', employee_unpaid::text, 'late_fee', line_fee::text)
            ORDER BY due_date, period, id) AS rows,
        sum(employer_unpaid) AS employer, sum(employee_unpaid) AS employee,
        sum(employer_unpaid + employee_unpaid) AS principal, sum(line_fee) AS fee,
        coalesce(sum(employer_unpaid + employee_unpaid) FILTER (WHERE accruing), 0.00)
            AS accruing
    FROM lines GROUP BY case_id
)
INSERT INTO {NOTICES} (
    case_id, number, region_code, year, sequence, state, issued_on, principal, late_fee, total,
    snapshot, created_at, {", ".join(default_columns)})
SELECT n.case_id, n.number, c.region_code, %(year)s, n.sequence, %(state)s, %(issued_on)s,
    b.principal, b.fee, b.principal + b.fee,
    %(top)s::jsonb || jsonb_build_object(
        'case_no', c.case_no,
        'unit', jsonb_build_object('uscc', u.uscc, 'name', u.name, 'region_code', u.region_code),
        'lines', b.rows,
        'by_period', bp.rows,
        'principal', b.principal::text,
        'employer', b.employer::text,
        'employee', b.employee::text,
        'late_fee', b.fee::text,
        'total', (b.principal + b.fee)::text,
        'late_fee_rule', %(rule)s::jsonb || jsonb_build_object(
            'daily_amount', ROUND(b.accruing * %(daily_rate)s::numeric, 2)::text),
        'notice_no', n.number,
        'payment_reference', n.number),
    %(now)s, {", ".join(f"%(default_{c})s" for c in default_columns)}
FROM numbered n
JOIN by_case b ON b.case_id = n.case_id
JOIN by_period bp ON bp.case_id = n.case_id
JOIN {CASES} c ON c.id = n.case_id
JOIN {UNITS} u ON u.id = c.unit_id
ORDER BY n.case_id
"""
    params = {
        "case_ids": [c for c, _, _ in numbered],
        "numbers": [n for _, n, _ in numbered],
        "sequences": [s for _, _, s in numbered],
        "issued_on": issued_on,
        "year": issued_on.year,
        "state": state,
        "top": Jsonb(top),
        "rule": Jsonb(rule),
        "daily_rate": daily_rate,
        "now": timezone.now(),
        **{f"default_{c}": v for c, v in defaults.items()},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
