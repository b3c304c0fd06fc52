"""Import of an arrears file against a plain COPY of the same file into a bare table, on PostgreSQL,
measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python -m bench.import_vs_copy --lines 1000000

Creates (and drops afterwards) the database `replenish_bench` on that server. Prints the time of
each and the ratio, plus the import command's peak memory.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

from bench.arrears_file import write_arrears_file

ROOT = Path(__file__).resolve().parent.parent
BARE_TABLE = """
CREATE TABLE bare_arrears (
    unit_uscc varchar(18), unit_name varchar(200), region_code varchar(6), period varchar(7),
    id_number varchar(18), person_name varchar(100), base numeric(16,2),
    employer_amount numeric(16,2), employee_amount numeric(16,2), due_date date)
"""


def _database_url(server_url: str, name: str) -> str:
    parts = urlparse(server_url)
    return urlunparse(parts._replace(path=f"/{name}"))


def _run(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    path = ROOT / "var" / "bench" / f"arrears-{args.lines}.csv"
    if not path.exists():
        write_arrears_file(path, lines=args.lines)

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS replenish_bench")
        admin.execute("CREATE DATABASE replenish_bench")
    url = _database_url(server, "replenish_bench")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true", "LOG_LEVEL": "WARNING"}
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(BARE_TABLE)
            started = time.perf_counter()
            with (
                conn.cursor() as cursor,
                path.open("rb") as data,
                cursor.copy("COPY bare_arrears FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            copy_seconds = time.perf_counter() - started
            conn.execute("DROP TABLE bare_arrears")
        import_seconds = _run([sys.executable, "manage.py", "import_arrears", str(path)], env)
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS replenish_bench")

    print(f"lines: {args.lines}")
    print(f"{'workload':<28}{'seconds':>10}{'ratio':>8}")
    print(f"{'COPY into a bare table':<28}{copy_seconds:>10.2f}{1:>8.2f}")
    print(f"{'import_arrears':<28}{import_seconds:>10.2f}{import_seconds / copy_seconds:>8.2f}")
    print(f"import_arrears peak memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
