"""`make bench`: each workload of issue 7 against a baseline measured in the same run (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_SIZE=small python -m bench.run

`BENCH_SIZE=small` (default) is 1/20 of the region (50,000 arrears lines, 2,500 units); `full` is
1,000,000 lines over 50,000 units. The region is built through the product's own commands, in this
order, each measured (time and the command's peak resident memory, `ru_maxrss` of its process):

1. `import_arrears` of the generated file (bench.arrears_file), against COPY of the same file into a
   bare table; it registers one case per unit.
2. `issue_notices` for every registered case, against COPY of as many rows into a bare table.
3. `run_daily` with nothing due; then 1% of the notices delivered with a deadline passed (set-based
   SQL, the only state not reached through a command) and `run_daily` again; then another 1% and the
   same work one case at a time through the ORM (bench.one_at_a_time).
4. `import_arrivals` of a file of arrivals (60% quoting a notice number, 20% only the payer of an
   open case, 10% an unknown payer, 10% re-sent references of an earlier file), against COPY of it.
5. Page latency (bench.pages) on the region against a nearly empty database.

Creates and drops the databases `bench_<size>` and `bench_<size>_empty` on the server.
"""

import csv
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

from bench.arrears_file import write_arrears_file
from units.samples import sample_uscc

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"small": 50_000, "full": 1_000_000}
AS_OF = date(2026, 11, 22)
SEED = 7
PAGE_REPEAT = 20
GOALS = {
    "import_arrears": "<= 2x COPY",
    "issue_notices": "<= 5x COPY",
    "import_arrivals": "<= 3x COPY",
    "run_daily 1% due": "grows with due work",
    "one at a time (ORM)": ">= 50x run_daily",
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
BARE_ARRIVALS = """
CREATE TABLE bare_arrivals (
    arrival_ref varchar(64), arrived_on date, amount numeric(16,2), payer_uscc varchar(18),
    reference varchar(32), channel varchar(8))
"""


@dataclass
class Row:
    workload: str
    seconds: float
    baseline: str
    baseline_seconds: float | None
    peak_mib: float | None = None

    def ratio(self, startup: float = 0.0) -> str:
        """Time over the baseline's; with `startup`, the command's start-up time left out."""
        if not self.baseline_seconds or self.seconds <= startup:
            return ""
        return f"{(self.seconds - startup) / self.baseline_seconds:.2f}"


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
        # A broker nobody consumes: the messages are queued as in production, and sent by the
        # workers, which are not part of these workloads (without a broker Celery runs eagerly).
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(ROOT / "var" / "bench" / "celery"),
    }


def measure(args: list[str], env: dict) -> tuple[float, float, str]:
    """Seconds, peak resident MiB and standard output of one command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode})")
    return seconds, usage.ru_maxrss / 1024, out


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


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
    subprocess.run(manage("migrate", "-v0"), cwd=ROOT, env=env_for(url), check=True)
    return url


def export_notice_rows(url: str, path: Path) -> None:
    """The notices just issued, as CSV: the baseline copies the very same rows back in."""
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


def write_arrivals_files(url: str, earlier: Path, path: Path, count: int, units: int) -> None:
    """60% quote a notice number, 20% only name the payer of an open case, 10% an unknown payer,
    10% re-send a reference of `earlier` (imported before, not measured)."""
    rng = random.Random(SEED)
    with psycopg.connect(url) as conn:
        notices = conn.execute(
            "SELECT n.number, u.uscc FROM notices_notice n "
            "JOIN replenish_arrearscase c ON c.id = n.case_id "
            "JOIN units_unit u ON u.id = c.unit_id ORDER BY n.id"
        ).fetchall()
    channels = ("wechat", "alipay", "etax", "bank", "counter")
    header = ("arrival_ref", "arrived_on", "amount", "payer_uscc", "reference", "channel")
    resent = []
    with earlier.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for i in range(count // 10):
            number, uscc = notices[rng.randrange(len(notices))]
            row = (
                f"EARLY{i:08d}",
                AS_OF - timedelta(days=5),
                f"{rng.randrange(100, 5000)}.00",
                uscc,
                number,
                channels[i % 5],
            )
            writer.writerow(row)
            resent.append(row)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for i in range(count):
            kind = i % 10
            arrived = AS_OF - timedelta(days=1 + i % 3)
            amount = f"{rng.randrange(100, 5000)}.{rng.randrange(100):02d}"
            channel = channels[i % 5]
            number, uscc = notices[rng.randrange(len(notices))]
            if kind < 6:
                writer.writerow((f"ARR{i:08d}", arrived, amount, uscc, number, channel))
            elif kind < 8:
                writer.writerow((f"ARR{i:08d}", arrived, amount, uscc, "", channel))
            elif kind < 9:
                writer.writerow(
                    (
                        f"ARR{i:08d}",
                        arrived,
                        amount,
                        sample_uscc(units + i, region_code="310115"),
                        "",
                        channel,
                    )
                )
            else:
                writer.writerow(resent[i // 10 % len(resent)])


def make_due(url: str, fraction_of: int, offset: int) -> int:
    """Deliver the notice of every `fraction_of`-th notified case (from `offset`) with its deadline
    already passed: the set-based stand-in for deliveries recorded over the past weeks."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            UPDATE notices_notice n SET state = 'delivered', delivery_channel = 'post',
                   delivered_on = %(delivered)s, deadline = %(deadline)s
            FROM replenish_arrearscase c
            WHERE c.id = n.case_id AND c.state = 'notified' AND n.state = 'issued'
              AND c.id %% %(every)s = %(offset)s
            """,
            {
                "delivered": AS_OF - timedelta(days=20),
                "deadline": AS_OF - timedelta(days=1),
                "every": fraction_of,
                "offset": offset,
            },
        ).rowcount


def analyze(url: str) -> None:
    """What autovacuum does to a live region between two workloads, done at once (not measured):
    the statistics of tables just filled by a bulk load."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def scalar(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    size = os.environ.get("BENCH_SIZE", "small")
    lines = SIZES[size]
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    extra: list[str] = []
    name = f"bench_{size}"
    url = fresh_database(server, name)
    env = env_for(url)
    try:
        # 0. What every command pays before it starts: Python, Django and the apps.
        # The least of three: one sample on a loaded machine can exceed a whole command.
        startup = min(measure(manage("run_daily", "--help"), env)[0] for _ in range(3))

        # 1. Arrears.
        arrears = work / f"arrears-{lines}.csv"
        if not arrears.exists():
            write_arrears_file(arrears, lines=lines, seed=SEED)
        copy_s = copy_file(url, BARE_ARREARS, "bare_arrears", arrears)
        seconds, peak, _ = measure(manage("import_arrears", str(arrears)), env)
        rows.append(Row("import_arrears", seconds, f"COPY {lines} lines", copy_s, peak))
        cases = scalar(url, "SELECT count(*) FROM replenish_arrearscase WHERE state = 'registered'")
        units = scalar(url, "SELECT count(*) FROM units_unit")
        analyze(url)

        # 2. Notices.
        seconds, peak, _ = measure(
            manage("issue_notices", "--date", str(AS_OF - timedelta(days=21))), env
        )
        notice_rows = work / f"notices-{cases}.csv"
        export_notice_rows(url, notice_rows)
        copy_s = copy_file(url, BARE_NOTICES, "bare_notices", notice_rows)
        rows.append(Row("issue_notices", seconds, f"COPY {cases} rows", copy_s, peak))

        analyze(url)

        # 3. The daily run.
        measure(manage("run_daily", "--date", str(AS_OF)), env)  # first run: whatever is pending
        nothing_s, peak, _ = measure(manage("run_daily", "--date", str(AS_OF)), env)
        rows.append(Row("run_daily nothing due", nothing_s, "", None, peak))
        due = make_due(url, 100, 0)
        seconds, peak, out = measure(manage("run_daily", "--date", str(AS_OF)), env)
        overdue = scalar(url, "SELECT count(*) FROM replenish_arrearscase WHERE state = 'overdue'")
        rows.append(Row("run_daily 1% due", seconds, "run_daily nothing due", nothing_s, peak))
        extra.append(
            f"run_daily with 1% due: {due} notice(s) past their deadline, {overdue} case(s) overdue"
        )
        daily_s = seconds
        due = make_due(url, 100, 1)
        seconds, peak, out = measure(
            [sys.executable, "-m", "bench.one_at_a_time", "--date", str(AS_OF)], env
        )
        rows.append(Row("one at a time (ORM)", seconds, "run_daily 1% due", daily_s, peak))
        net = (
            f", {(seconds - startup) / (daily_s - startup):.1f}x without start-up"
            if daily_s > startup
            else ""
        )
        extra.append(
            f"run_daily is {seconds / daily_s:.1f}x faster than one at a time{net} (goal >= 50x)"
        )
        extra.append(f"one at a time: {due} notice(s) past their deadline, {out.strip()}")

        # 4. Arrivals.
        count = lines // 10
        earlier, arrivals = work / f"arrivals-earlier-{count}.csv", work / f"arrivals-{count}.csv"
        write_arrivals_files(url, earlier, arrivals, count, units)
        measure(manage("import_arrivals", str(earlier)), env)
        copy_s = copy_file(url, BARE_ARRIVALS, "bare_arrivals", arrivals)
        seconds, peak, out = measure(manage("import_arrivals", str(arrivals)), env)
        rows.append(Row("import_arrivals", seconds, f"COPY {count} rows", copy_s, peak))
        extra.append(f"import_arrivals: {out.strip().splitlines()[-1]}")

        # 5. Pages, against a nearly empty database.
        _, _, out = measure(
            [sys.executable, "-m", "bench.pages", "--repeat", str(PAGE_REPEAT)], env
        )
        full_pages = json.loads(out)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
    empty_url = fresh_database(server, f"{name}_empty")
    try:
        empty_env = env_for(empty_url)
        tiny = work / "arrears-20.csv"
        write_arrears_file(tiny, lines=20, seed=SEED)
        measure(manage("import_arrears", str(tiny)), empty_env)
        measure(manage("issue_notices", "--date", str(AS_OF)), empty_env)
        _, _, out = measure(
            [sys.executable, "-m", "bench.pages", "--repeat", str(PAGE_REPEAT)], empty_env
        )
        empty_pages = json.loads(out)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}_empty")

    print(f"size: {size} ({lines} arrears lines, {units} units, {cases} cases)")
    print(f"start-up of a command (manage.py run_daily --help): {startup:.2f} s")
    print()
    print(
        "| workload | seconds | peak MiB | baseline | seconds | ratio | without start-up | goal |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for row in rows:
        base = f"{row.baseline_seconds:.2f}" if row.baseline_seconds else ""
        print(
            f"| {row.workload} | {row.seconds:.2f} | {row.peak_mib:.0f} | {row.baseline} | {base} "
            f"| {row.ratio()} | {row.ratio(startup)} | {GOALS.get(row.workload, '')} |"
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
    print()
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
