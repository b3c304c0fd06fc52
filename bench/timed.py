"""One command of the benchmark, timed without Python's and Django's start-up.

    DATABASE_URL=... python -m bench.timed import_arrears var/bench/arrears-w1.csv
    DATABASE_URL=... python -m bench.timed bench.one_at_a_time --date 2026-11-22
    DATABASE_URL=... python -m bench.timed bench.region agreements

Sets Django up, then times just the work: `call_command(name, *args)` for a management command,
or `main(args)` of a `bench.*` module. The command's own output goes to standard output as
usual; the seconds of the work are the last line of standard error, as `TIMED <seconds>`
(`parse_timed` reads it). `bench.run` takes the ratios from that figure and the process's peak
memory and wall time from `os.wait4`.
"""

import importlib
import os
import sys
import time

PREFIX = "TIMED "


def parse_timed(stderr: str) -> float:
    """The seconds `bench.timed` printed on the last `TIMED` line of its standard error."""
    for line in reversed(stderr.splitlines()):
        if line.startswith(PREFIX):
            return float(line[len(PREFIX) :])
    raise ValueError("no TIMED line in the command's standard error")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        raise SystemExit("usage: python -m bench.timed <command or bench.module> [args]")
    name, args = argv[0], argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if name.startswith("bench."):
        run = importlib.import_module(name).main
        started = time.perf_counter()
        run(args)
    else:
        from django.core.management import call_command
        from django.core.management.base import CommandError

        started = time.perf_counter()
        try:
            call_command(name, *args)
        except CommandError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            raise SystemExit(getattr(exc, "returncode", 1)) from exc
    seconds = time.perf_counter() - started
    sys.stdout.flush()
    print(f"{PREFIX}{seconds:.6f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
