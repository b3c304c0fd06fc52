"""`make load`: pages under load. The bench's region (BENCH_SIZE, default small) is built on the
PostgreSQL server of DATABASE_URL, gunicorn serves it on loopback (LOAD_PORT, default 8000;
WEB_CONCURRENCY workers, default 4; the shared cache of LOAD_CACHE_URL, default Redis db 13), and
locust (bench/locustfile.py) runs each scenario with LOAD_CLIENTS (16) clients that ask with no
pause for LOAD_SECONDS (60, at most a minute) each: the admin case list, a case page, the portal
home and the API balance. p50/p95/p99, the errors and the processor time a request cost each
side (the web workers, PostgreSQL's processes, the clients; read from /proc and the clients'
rusage before and after each scenario) go into docs/benchmarks.md between the `load` markers
and are printed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_SIZE=small python -m bench.load

Creates and drops the database `<BENCH_DB_PREFIX>_load_<size>`.
"""

import csv
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.region import build, scale_of
from bench.run import ROOT, drop_database, env_for, fresh_database, measure

SCENARIOS = ("admin case list", "admin case page", "portal home", "API balance")
PASSWORD = "Load-harbour-7391"
BEGIN, END = "<!-- load: begin -->", "<!-- load: end -->"

# The users the clients act as, and a signed-in session of each (as a sign-in would leave it),
# so that the minute measured is pages only: a sign-in costs the server a password hash (0.22 s
# of a core, measured), and sixteen of them at the start of a scenario were part of its time.
USERS = f"""
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from knox.models import AuthToken
from kernel.actors import System
from replenish.models import ArrearsCase
from units.portal import portal_user_create
User = get_user_model()
User.objects.create_superuser("load_admin", password="{PASSWORD}")
ids = list(ArrearsCase.objects.order_by("pk").values_list("pk", flat=True))
case = ArrearsCase.objects.get(pk=ids[len(ids) // 2])
portal_user_create(username="load_portal", password="{PASSWORD}",
                   actor=System("bench_load"), unit_id=case.unit_id)
_token, key = AuthToken.objects.create(user=User.objects.get(username="load_portal"))
sessions = {{}}
for user in User.objects.filter(username__in=["load_admin", "load_portal"]):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    sessions[user.username] = store.session_key
print(json.dumps({{"case": case.pk, "token": key, "cases": len(ids), "sessions": sessions}}))
"""


def wait_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {url} in {timeout} s")


def server_cpu() -> dict[str, float]:
    """Processor seconds (user + system) spent so far by the web workers (gunicorn) and by
    PostgreSQL's processes on this machine, read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = {"web": 0.0, "database": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        group = "web" if b"gunicorn" in command else "database" if b"postgres" in command else ""
        if group:
            spent[group] += (int(fields[11]) + int(fields[12])) / tick
    return spent


def clients_cpu() -> float:
    """Processor seconds spent by the ended children of this process (the locust runs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def percentiles(stats_csv: Path, name: str) -> dict:
    for row in csv.DictReader(stats_csv.open()):
        if row["Name"] == name:
            return {
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": row["50%"],
                "p95": row["95%"],
                "p99": row["99%"],
            }
    raise SystemExit(f"no row {name!r} in {stats_csv}")


def report(results: dict, *, size: str, cases: int, seconds: int, clients: int, workers: int):
    load = os.getloadavg()[1]
    lines = [
        BEGIN,
        f"Region `BENCH_SIZE={size}` ({cases:,} cases), gunicorn with {workers} sync workers on "
        f"loopback, {clients} locust clients asking with no pause, {seconds} s a scenario "
        f"(`make load`, {platform.machine()}, {os.cpu_count()} CPUs shared with the clients; "
        f"load average {load:.1f} over the last 5 minutes of the run). A closed loop: "
        f"{clients} clients on {workers} workers wait about {clients // workers} service times "
        "per request, so a page's p50 is about that many times what one request alone takes.",
        "",
        "Processor time a request, ms: what the web workers, PostgreSQL's processes and the "
        "clients (locust, its start included) spent during the scenario over the requests "
        "answered; the clients start signed in (`bench/load.py`). "
        f"{os.cpu_count()} cores serve N requests a second only if the three add up to at most "
        f"{os.cpu_count()} × 1000 / N ms.",
        "",
        "| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| web ms | database ms | clients ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        cpu = {side: seconds * 1000 / max(1, r["requests"]) for side, seconds in r["cpu"].items()}
        lines.append(
            f"| {name} | {r['requests']} | {r['rps']:.1f} | {r['p50']} | {r['p95']} | "
            f"{r['p99']} | {r['errors']} | {cpu['web']:.1f} | {cpu['database']:.1f} "
            f"| {cpu['clients']:.1f} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write_doc(block: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += "\n## Load: pages under 16 concurrent clients (`make load`)\n\n" + block + "\n"
    doc.write_text(text)


def main() -> None:
    size = os.environ.get("BENCH_SIZE", "small")
    seconds = min(60, int(os.environ.get("LOAD_SECONDS", "60")))
    clients = int(os.environ.get("LOAD_CLIENTS", "16"))
    workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
    port = int(os.environ.get("LOAD_PORT", "8000"))
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"{os.environ.get('BENCH_DB_PREFIX', 'bench')}_load_{size}"
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    print(f"building the region ({size}) in database {name}", flush=True)
    url = fresh_database(server, name)
    env = env_for(url)
    web = None
    try:
        build(scale_of(size), work, lambda argv, label=None, env=None: measure(argv, env_for(url)))
        shell = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", USERS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        made = json.loads(shell.stdout.strip().splitlines()[-1])
        static = Path(tempfile.mkdtemp(prefix="load-static-"))
        env = {
            **env,
            "STATIC_ROOT": str(static),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CACHE_URL": os.environ.get("LOAD_CACHE_URL", "redis://127.0.0.1:6379/13"),
            "API_RATE_UNIT": "1000000/min",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_MAX_REQUESTS": "0",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        web = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        host = f"http://127.0.0.1:{port}"
        wait_healthy(f"{host}/health/", 60)
        results = {}
        for scenario in SCENARIOS:
            prefix = work / f"load-{scenario.replace(' ', '-')}"
            server_before, clients_before = server_cpu(), clients_cpu()
            subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "locust"),
                    "-f",
                    "bench/locustfile.py",
                    "--headless",
                    "--only-summary",
                    "-u",
                    str(clients),
                    "-r",
                    str(clients),
                    "-t",
                    f"{seconds}s",
                    "--host",
                    host,
                    "--csv",
                    str(prefix),
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "LOAD_SCENARIO": scenario,
                    "LOAD_CASE": str(made["case"]),
                    "LOAD_TOKEN": made["token"],
                    "LOAD_SESSIONS": json.dumps(made["sessions"]),
                },
                check=False,
                timeout=seconds + 60,
            )
            server_after = server_cpu()
            results[scenario] = percentiles(Path(f"{prefix}_stats.csv"), scenario)
            results[scenario]["cpu"] = {
                **{side: server_after[side] - server_before[side] for side in server_after},
                "clients": clients_cpu() - clients_before,
            }
            print(scenario, results[scenario], flush=True)
        block = report(
            results,
            size=size,
            cases=made["cases"],
            seconds=seconds,
            clients=clients,
            workers=workers,
        )
        write_doc(block)
        print(block)
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=30)
        drop_database(server, name)


if __name__ == "__main__":
    main()
