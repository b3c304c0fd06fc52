"""`make bench`: each workload of issue 7 against a baseline measured in the same run (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_SIZE=small python -m bench.run

`BENCH_SIZE=small` (default) is 1/20 of the region; `full` is the issue's region: 50,000 units,
1,000,000 arrears lines over 24 months in two files, 100,000 cases in every state, 20,000
agreements with 200,000 installments, 100,000 arrivals (`tiny` exists for the test). The region
is built by `bench.region.build`, whose docstring lists every step and what stands in for what;
each step runs in its own process through `bench.timed`, which reports the seconds of the work
alone (no Python or Django start-up); the peak resident memory (`ru_maxrss`) and the wall time
come from `os.wait4`. Measured against baselines:

1. `import_arrears` of both waves (summed) against COPY of both files into a bare table (summed),
   and against COPY of the rows it wrote into the product's own tables (bench.floor).
2. `issue_notices` after each wave (summed) against COPY of all the notices they issued.
3. `run_daily` with nothing due, with 1% of the notices past their deadline, and the same 1%
   done one case at a time through the ORM (bench.one_at_a_time).
4. `import_arrivals` against COPY of the same file.
5. Page latency (bench.pages) on the region against a nearly empty database.

Creates and drops the databases `<prefix>_<size>` and `<prefix>_<size>_empty` on the server;
the prefix is `BENCH_DB_PREFIX` (default `bench`).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

from bench.arrears_file import write_arrears_file
from bench.floor import arrival_rows_copy, import_rows_copy
from bench.region import AS_OF, SEED, arrivals_paths, build, scale_of
from bench.timed import parse_timed

ROOT = Path(__file__).resolve().parent.parent
PAGE_REPEAT = 20
GOALS = {  # issue 21's (the bare-COPY ratio of import_arrears is ours)
    "import_arrears": "<= 10x COPY",
    "import_arrears (floor)": "<= 1.1x floor",
    "issue_notices": "<= 3x COPY",
    "run_daily nothing due": "<= 0.1 s",
    "run_daily 1% due": "grows with due work",
    "one at a time (ORM)": ">= 100x run_daily",
    "import_arrivals (floor)": "<= 1.2x its floor",
}
BARE_ARREARS = """
CREATE TABLE bare_arrears (
    unit_uscc varchar(18), unit_name varchar(200), region_code varchar(6), period varchar(7),
    id_number varchar(18), person_name varchar(100), base numeric(16,2),
    employer_amount numeric(16,2), employee_amount numeric(16,2), due_date date)
"""
NOTICE_COLUMNS = (
    "case_id, number, region_code, year, sequence, state, issued_on, principal, late_fee, total, "
    "snapshot, created_at"
)
BARE_NOTICES = """
CREATE TABLE bare_notices (
    case_id bigint, number varchar(32), region_code varchar(6), year smallint, sequence integer,
    state varchar(16), issued_on date, principal numeric(16,2), late_fee numeric(16,2),
    total numeric(16,2), snapshot jsonb, created_at timestamptz)
"""
# The same table with the snapshot compressed as the product's notices table compresses it (lz4,
# notices migration 0008): the second baseline of issue_notices, for a reader who would count
# that choice of storage as part of the floor.
BARE_NOTICES_LZ4 = BARE_NOTICES.replace("bare_notices", "bare_notices_lz4").replace(
    "snapshot jsonb", "snapshot jsonb COMPRESSION lz4"
)
BARE_ARRIVALS = """
CREATE TABLE bare_arrivals (
    arrival_ref varchar(64), arrived_on date, amount numeric(16,2), payer_uscc varchar(18),
    reference varchar(32), channel varchar(8))
"""


@dataclass
class Measured:
    """One step: the seconds of its work (bench.timed), its process's wall time and peak memory,
    its standard output, and the machine's one-minute load average before and after it."""

    seconds: float
    wall: float
    peak_mib: float
    out: str
    load_before: float = 0.0
    load_after: float = 0.0


@dataclass
class Row:
    workload: str
    seconds: float
    wall: float
    peak_mib: float
    baseline: str
    baseline_seconds: float | None
    load: tuple[float, float] = (0.0, 0.0)

    def ratio(self) -> str:
        if not self.baseline_seconds:
            return ""
        return f"{self.seconds / self.baseline_seconds:.2f}"


def database_url(server: str, name: str) -> str:
    return urlunparse(urlparse(server)._replace(path=f"/{name}"))


def env_for(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-not-a-secret",
        "ALLOWED_HOSTS": "testserver,localhost",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "ERROR",
        "MEDIA_ROOT": str(ROOT / "var" / "bench" / "media"),
        # The pages are timed server side, their static files not served: the plain storage,
        # so that a fresh checkout needs no `collectstatic` first.
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        # A broker nobody consumes: the messages are queued as in production, and sent by the
        # workers, which are not part of these workloads (without a broker Celery runs eagerly).
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(ROOT / "var" / "bench" / "celery"),
    }


def measure(argv: list[str], env: dict) -> Measured:
    """One step in its own process through bench.timed: the seconds of its work, its wall time,
    its peak resident MiB and its standard output."""
    args = [sys.executable, "-m", "bench.timed", *argv]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read()
    if os.waitstatus_to_exitcode(status):
        sys.stderr.write(stderr)
        raise SystemExit(f"{' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)})")
    return Measured(
        parse_timed(stderr), wall, usage.ru_maxrss / 1024, out, load_before, os.getloadavg()[0]
    )


def copy_file(url: str, ddl: str, table: str, path: Path) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            path.open("rb") as data,
            cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        conn.execute(f"DROP TABLE {table}")
    return seconds


def fresh_database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = database_url(server, name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env_for(url), check=True
    )
    return url


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")


def export_notice_rows(url: str, path: Path) -> int:
    """The notices issued, as CSV: the baseline copies the very same rows back in."""
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        path.open("wb") as out,
        cursor.copy(
            f"COPY (SELECT {NOTICE_COLUMNS} FROM notices_notice ORDER BY id) "
            "TO STDOUT (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            out.write(chunk)
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM notices_notice").fetchone()[0]


def post_arrivals(url: str, env: dict) -> dict:
    """The adjustment posting the measured arrivals (left matched by the region): its seconds,
    the arrivals it posted and the ledger rows it wrote (issue 13 rule 1, issue 21)."""

    def counts() -> tuple[int, int]:
        with psycopg.connect(url) as conn:
            ledger = conn.execute("SELECT count(*) FROM replenish_ledgerentry").fetchone()[0]
            posted = conn.execute(
                "SELECT count(*) FROM replenish_arrival WHERE state = 'posted'"
            ).fetchone()[0]
        return ledger, posted

    ledger_before, posted_before = counts()
    measured = measure(["post_adjustments", "--date", str(AS_OF)], env)
    ledger_after, posted_after = counts()
    arrivals = posted_after - posted_before
    return {
        "seconds": measured.seconds,
        "arrivals": arrivals,
        "ledger_rows": ledger_after - ledger_before,
        "rows_per_arrival": (ledger_after - ledger_before) / arrivals if arrivals else 0.0,
        "ms_per_arrival": 1000 * measured.seconds / arrivals if arrivals else 0.0,
        "load": (measured.load_before, measured.load_after),
    }


def paid_months(url: str, env: dict, work: Path) -> dict:
    """The paid person-months feed (`export_paid_months`) after the adjustment, measured: the
    batch of the months the adjustment's arrivals paid (the region's earlier months went out in
    the batches of the daily runs before), then the next with nothing changed. Baseline:
    `COPY ... TO` of every row of the feed's batches, in the file's order, to a file (what
    writing the answer out costs the database alone)."""
    first = measure(["export_paid_months", str(work / "paid-months-1.csv")], env)
    again = measure(["export_paid_months", str(work / "paid-months-2.csv")], env)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM replenish_paidmonthrow").fetchone()[0]
        months = conn.execute(
            "SELECT count(DISTINCT (unit_id, person_id, period)) FROM replenish_arrearsline"
        ).fetchone()[0]
    started = time.perf_counter()
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        (work / "paid-months-copy.csv").open("wb") as out,
        cursor.copy(
            "COPY (SELECT b.number, r.unit_uscc, r.id_number, r.period, r.employer_amount, "
            "r.employee_amount, r.status, r.status_on FROM replenish_paidmonthrow r "
            "JOIN replenish_paidmonthbatch b ON b.id = r.batch_id "
            "ORDER BY r.unit_uscc, r.id_number, r.period) TO STDOUT (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            out.write(chunk)
    copy_seconds = time.perf_counter() - started
    return {"first": first, "again": again, "rows": rows, "months": months, "copy": copy_seconds}


def pages(env: dict, *, big_cases: bool = False) -> dict:
    argv = ["bench.pages", "--repeat", str(PAGE_REPEAT), *(["--big-cases"] if big_cases else [])]
    return json.loads(measure(argv, env).out)


def summed(name: str, parts: list[Measured], baseline: str, baseline_seconds: float) -> Row:
    return Row(
        name,
        sum(p.seconds for p in parts),
        sum(p.wall for p in parts),
        max(p.peak_mib for p in parts),
        baseline,
        baseline_seconds,
        (max(p.load_before for p in parts), max(p.load_after for p in parts)),
    )


def main() -> None:
    size = os.environ.get("BENCH_SIZE", "small")
    scale = scale_of(size)
    prefix = os.environ.get("BENCH_DB_PREFIX", "bench")
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}_{size}"
    url = fresh_database(server, name)
    env = base_env = env_for(url)
    steps: dict[str, Measured] = {}

    def run(argv: list[str], label: str | None = None, env: dict | None = None) -> str:
        measured = measure(argv, {**base_env, **(env or {})})
        if label:
            steps[label] = measured
        return measured.out

    try:
        build(scale, work, run)
        census = json.loads(measure(["bench.region", "census"], env).out)
        ledger = measure(["check_ledger"], env).out.strip()
        waves = [work / f"arrears-{scale.wave_lines}-w{wave}.csv" for wave in (1, 2)]
        copy_arrears = sum(copy_file(url, BARE_ARREARS, "bare_arrears", w) for w in waves)
        notice_rows = work / f"notices-{scale.cases}.csv"
        notices = export_notice_rows(url, notice_rows)
        copy_notices = copy_file(url, BARE_NOTICES, "bare_notices", notice_rows)
        copy_notices_lz4 = copy_file(url, BARE_NOTICES_LZ4, "bare_notices_lz4", notice_rows)
        _earlier, arrivals = arrivals_paths(scale, work)
        copy_arrivals = copy_file(url, BARE_ARRIVALS, "bare_arrivals", arrivals)
        full_pages = pages(env)
        posting = post_arrivals(url, env)
        feed = paid_months(url, env, work)
        floor_url = fresh_database(server, f"{name}_floor")
        try:
            floor_s, floor_lines = import_rows_copy(url, floor_url)
        finally:
            drop_database(server, f"{name}_floor")
        floor_url = fresh_database(server, f"{name}_floor")
        try:
            arrivals_floor_s, floor_arrivals = arrival_rows_copy(url, floor_url, arrivals.name)
        finally:
            drop_database(server, f"{name}_floor")
    finally:
        drop_database(server, name)
    empty_url = fresh_database(server, f"{name}_empty")
    try:
        empty_env = env_for(empty_url)
        tiny = work / "arrears-20.csv"
        write_arrears_file(tiny, lines=20, seed=SEED)
        measure(["import_arrears", str(tiny)], empty_env)
        measure(["issue_notices", "--date", str(AS_OF)], empty_env)
        empty_pages = pages(empty_env, big_cases=True)
    finally:
        drop_database(server, f"{name}_empty")

    nothing = steps["run_daily nothing due"]
    daily = steps["run_daily 1% due"]
    one = steps["one at a time (ORM)"]
    imports = [steps["import_arrears#1"], steps["import_arrears#2"]]
    rows = [
        summed("import_arrears", imports, f"COPY {scale.lines} lines (2 files)", copy_arrears),
        summed(
            "import_arrears (floor)",
            imports,
            f"COPY of its {floor_lines} lines' rows into the product's tables (bench.floor)",
            floor_s,
        ),
        summed(
            "issue_notices",
            [steps["issue_notices#1"], steps["issue_notices#2"]],
            f"COPY {notices} rows",
            copy_notices,
        ),
        summed(
            "issue_notices (same compression)",
            [steps["issue_notices#1"], steps["issue_notices#2"]],
            f"COPY {notices} rows, the snapshot compressed with lz4 as in the product's table",
            copy_notices_lz4,
        ),
        summed("run_daily nothing due", [nothing], "", None),
        summed("run_daily 1% due", [daily], "run_daily nothing due", nothing.seconds),
        summed("one at a time (ORM)", [one], "run_daily 1% due", daily.seconds),
        summed(
            "import_arrivals",
            [steps["import_arrivals"]],
            f"COPY {scale.arrivals} rows",
            copy_arrivals,
        ),
        summed(
            "import_arrivals (floor)",
            [steps["import_arrivals"]],
            f"COPY of its {floor_arrivals} arrivals' rows into the product's tables (bench.floor)",
            arrivals_floor_s,
        ),
        summed(
            "export_paid_months, after the adjustment",
            [feed["first"]],
            f"COPY TO of the feed's {feed['rows']} rows ({feed['months']} person-months in all)",
            feed["copy"],
        ),
        summed(
            "export_paid_months, nothing changed",
            [feed["again"]],
            "export_paid_months, after the adjustment",
            feed["first"].seconds,
        ),
    ]
    print(
        f"size: {size} ({scale.lines} arrears lines, {census['units']} units, "
        f"{sum(census['cases'].values())} cases, {census['installments']} installments)"
    )
    print("seconds: the work alone (bench.timed); wall: the whole process, start-up included")
    print()
    print("load: the one-minute load average before → after (a step above 1.5 is to be repeated)")
    print()
    print("| workload | seconds | wall | peak MiB | load | baseline | seconds | ratio | goal |")
    print("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |")
    for row in rows:
        base = f"{row.baseline_seconds:.2f}" if row.baseline_seconds else ""
        print(
            f"| {row.workload} | {row.seconds:.2f} | {row.wall:.2f} | {row.peak_mib:.0f} "
            f"| {row.load[0]:.2f} → {row.load[1]:.2f} "
            f"| {row.baseline} | {base} | {row.ratio()} | {GOALS.get(row.workload, '')} |"
        )
    print()
    print("| page | median ms | p95 ms | empty: median ms | empty: p95 ms | ratio of medians |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for page, (median, p95) in full_pages.items():
        e_median, e_p95 = empty_pages[page]
        print(
            f"| {page} | {median:.1f} | {p95:.1f} | {e_median:.1f} | {e_p95:.1f} "
            f"| {median / e_median:.2f} |"
        )
    ten = empty_pages["admin case page"][0]
    for page, (median, p95) in empty_pages.items():
        if page not in full_pages:
            print(
                f"{page} (nearly empty database): median {median:.1f} ms, p95 {p95:.1f} ms, "
                f"{median / ten:.2f}x the case of ten lines (goal <= 300 ms, not growing)"
            )
    print()
    print(
        f"run_daily is {one.seconds / daily.seconds:.1f}x faster than one at a time (goal >= 100x)"
    )
    moved = [line for line in daily.out.splitlines() if "逾期" in line or "overdue" in line]
    print(f"run_daily with 1% due: {'; '.join(moved)}")
    print(f"one at a time: {one.out.strip()}")
    print(f"import_arrivals: {steps['import_arrivals'].out.strip().splitlines()[-1]}")
    print(
        f"posting arrivals (post_adjustments): {posting['arrivals']} arrivals in "
        f"{posting['seconds']:.2f} s ({posting['ms_per_arrival']:.2f} ms/arrival), "
        f"{posting['ledger_rows']} ledger rows ({posting['rows_per_arrival']:.2f} rows/arrival; "
        f"goal <= 0.5 ms and <= 3 rows; load {posting['load'][0]:.2f} → {posting['load'][1]:.2f})"
    )
    step = steps["states"]
    print(
        f"states (not a workload of the issue): {step.seconds:.2f} s, {step.peak_mib:.0f} MiB: "
        f"{step.out.strip()}"
    )
    print(f"region: {json.dumps(census, ensure_ascii=False)}")
    print(f"check_ledger: {ledger}")


if __name__ == "__main__":
    main()
