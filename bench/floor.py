"""The floors under `import_arrears` and `import_arrivals`: the very rows the imports wrote,
copied with COPY into the product's own tables (every index, foreign key, check constraint and
trigger) of an empty, migrated database, in one transaction like the import's, COMMIT included.

The issue's baseline, COPY of the file into a bare table, stores 1,000,000 rows of text and
checks nothing. The import stores each line, its ledger entry, the units, persons and cases, and
the database checks every foreign key of every row at COMMIT. This second baseline measures
that part alone: what storing the import's result costs the database, whatever the program
that computes it.

Rows the imports did not write are left out (cases by their import batch, ledger entries of kind
`assessed`, audit rows `open`); references to rows that other steps made are copied as NULL
(a unit's or case's obligor, a case's predecessor).

The arrivals' floor copies the measured file's import record, its arrivals and their audit rows
(`match` or `queue`); the units and cases they point to are copied first, outside the time.
"""

import io
import time

import psycopg

# (table, the rows the imports wrote, columns copied as NULL), parents first.
IMPORTED_CASES = "SELECT id FROM replenish_arrearscase WHERE import_batch_id IS NOT NULL"
IMPORTED_LINES = (
    "SELECT id FROM replenish_arrearsline WHERE import_batch_id IS NOT NULL "
    "AND source_line_id IS NULL"
)
ROWS = (
    ("units_unit", "TRUE", ("obligor_id",)),
    ("units_insuredperson", "TRUE", ()),
    ("replenish_importbatch", "TRUE", ()),
    ("replenish_arrearscase", "import_batch_id IS NOT NULL", ("obligor_id", "predecessor_id")),
    ("replenish_arrearsline", f"id IN ({IMPORTED_LINES})", ()),
    ("replenish_ledgerentry", f"kind = 'assessed' AND line_id IN ({IMPORTED_LINES})", ()),
    (
        "replenish_auditentry",
        f"subject = 'case' AND transition = 'open' AND case_id IN ({IMPORTED_CASES})",
        (),
    ),
)


def _columns(conn, table: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
    ]


# The arrivals' floor: the parents, copied outside the time, then the measured file's rows. A
# case's predecessor is kept (one registered case a unit is the rule for cases without one):
# the cases are copied in key order, a predecessor before its successors.
ARRIVAL_PARENTS = (
    ("units_unit", "TRUE", ("obligor_id",)),
    ("replenish_arrearscase", "TRUE ORDER BY id", ("obligor_id", "import_batch_id")),
)


def _arrival_rows(file_name: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    batch = f"SELECT id FROM replenish_arrivalimport WHERE file_name = '{file_name}'"
    arrivals = f"SELECT id FROM replenish_arrival WHERE import_batch_id IN ({batch})"
    return (
        ("replenish_arrivalimport", f"id IN ({batch})", ()),
        ("replenish_arrival", f"import_batch_id IN ({batch})", ()),
        (
            "replenish_auditentry",
            f"subject = 'arrival' AND transition IN ('match', 'queue') "
            f"AND subject_id IN ({arrivals})",
            ("actor_id",),
        ),
    )


def _read(conn, rows) -> dict[str, tuple[list[str], bytes]]:
    data: dict[str, tuple[list[str], bytes]] = {}
    for table, where, nulls in rows:
        columns = _columns(conn, table)
        select = ", ".join("NULL" if c in nulls else c for c in columns)
        buffer = io.BytesIO()
        with conn.cursor().copy(
            f"COPY (SELECT {select} FROM {table} WHERE {where}) TO STDOUT (FORMAT binary)"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        data[table] = (columns, buffer.getvalue())
    return data


def _write(conn, data: dict[str, tuple[list[str], bytes]]) -> None:
    for table, (columns, rows) in data.items():
        with conn.cursor().copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(rows)


def _timed_write(conn, data: dict[str, tuple[list[str], bytes]]) -> float:
    """Seconds to write `data` in one transaction, COMMIT included."""
    started = time.perf_counter()
    with conn.transaction():
        _write(conn, data)
    return time.perf_counter() - started


def import_rows_copy(region_url: str, empty_url: str) -> tuple[float, int]:
    """Seconds to COPY the arrears imports' rows from the region into the empty database, and
    how many lines that was."""
    with psycopg.connect(region_url) as conn:
        data = _read(conn, ROWS)
    with psycopg.connect(empty_url) as conn:
        seconds = _timed_write(conn, data)
        count = conn.execute("SELECT count(*) FROM replenish_arrearsline").fetchone()[0]
    return seconds, count


def arrival_rows_copy(region_url: str, empty_url: str, file_name: str) -> tuple[float, int]:
    """Seconds to COPY the rows `import_arrivals` wrote for `file_name` from the region into the
    empty database (its units and cases there first, untimed), and how many arrivals."""
    with psycopg.connect(region_url) as conn:
        parents = _read(conn, ARRIVAL_PARENTS)
        data = _read(conn, _arrival_rows(file_name))
    with psycopg.connect(empty_url) as conn:
        with conn.transaction():
            _write(conn, parents)
        seconds = _timed_write(conn, data)
        count = conn.execute("SELECT count(*) FROM replenish_arrival").fetchone()[0]
    return seconds, count
