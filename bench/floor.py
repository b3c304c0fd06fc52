"""The floor under `import_arrears`: the very rows the imports wrote, copied with COPY into the
product's own tables (every index, foreign key, check constraint and trigger) of an empty, migrated
database, in one transaction like the import's, COMMIT included.

The issue's baseline, COPY of the file into a bare table, stores 1,000,000 rows of text and
checks nothing. The import stores each line, its ledger entry, the units, persons and cases, and
the database checks every foreign key of every row at COMMIT. This second baseline measures
that part alone: what storing the import's result costs the database, whatever the program
that computes it.

Rows the imports did not write are left out (cases by their import batch, ledger entries of kind
`assessed`, audit rows `open`); references to rows that other steps made are copied as NULL
(a unit's or case's obligor, a case's predecessor).
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


def import_rows_copy(region_url: str, empty_url: str) -> tuple[float, int]:
    """Seconds to COPY the imports' rows from the region into the empty database, and how many
    rows that was."""
    data: dict[str, tuple[list[str], bytes]] = {}
    with psycopg.connect(region_url) as conn:
        for table, where, nulls in ROWS:
            columns = _columns(conn, table)
            select = ", ".join("NULL" if c in nulls else c for c in columns)
            buffer = io.BytesIO()
            with conn.cursor().copy(
                f"COPY (SELECT {select} FROM {table} WHERE {where}) TO STDOUT (FORMAT binary)"
            ) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            data[table] = (columns, buffer.getvalue())
    with psycopg.connect(empty_url) as conn:
        started = time.perf_counter()
        with conn.transaction():
            for table, _where, _nulls in ROWS:
                columns, rows = data[table]
                with conn.cursor().copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
                ) as copy:
                    copy.write(rows)
        seconds = time.perf_counter() - started
        count = conn.execute("SELECT count(*) FROM replenish_arrearsline").fetchone()[0]
    return seconds, count
