"""Server-side latency of the pages, through the Django test client (no network, no browser).

    DATABASE_URL=... python -m bench.timed bench.pages --repeat 20

Prints one JSON object: {page: [median_ms, p95_ms]}. Run by `bench.run` once on the full region
and once on a nearly empty database (two units, two cases, two notices). It creates what it
signs in with: a superuser for the staff pages, and a portal user acting for the unit of the
case in the middle of the list (`portal_user_create`, the product's service) with a DRF token
for the inquiry API (`extra_pages`).

With `--big-cases` (the nearly empty database's run) it also imports, through the product's
import, a case of 500 lines and one of 5,000 (a unit of 50 and one of 500 employees, ten months
each) and times their case pages: a page shows a case's lines and ledger fifty at a time, so
neither should cost more than a case of ten lines.
"""

import argparse
import csv
import io
import json
import os
import statistics
import sys
import time

import django


def extra_pages(case, notice) -> dict[str, tuple[str, dict]]:
    """The portal's notice list and one call of the inquiry API, as the portal user of the
    case's unit: name -> (URL, what the client needs: a session user or request headers)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse
    from knox.models import AuthToken

    from kernel.actors import System
    from units.portal import portal_user_create

    User = get_user_model()
    user = User.objects.filter(username="bench_portal").first()
    if user is None:
        portal_user_create(
            username="bench_portal",
            password="Quiet-harbour-7391",
            actor=System("bench_pages"),
            unit_id=case.unit_id,
        )
        user = User.objects.get(username="bench_portal")
    _token, key = AuthToken.objects.create(user=user)
    return {
        "portal notice list": (reverse("portal:notices"), {"user": user}),
        "API notice list": (
            reverse("api:notices"),
            {"headers": {"HTTP_AUTHORIZATION": f"Token {key}"}},
        ),
    }


BIG_CASES = {
    "admin case page, 500 lines": (900_001, 50),
    "admin case page, 5,000 lines": (900_002, 500),
}
BIG_CASE_MONTHS = 10


def big_case_file(unit_no: int, persons: int) -> io.BytesIO:
    """An arrears file of one unit: `persons` employees, each owing the ten months 2025-01 to
    2025-10 (valid identifiers, amounts varying by line)."""
    from bench.arrears_file import COLUMNS
    from units.samples import sample_id_number, sample_uscc

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    uscc = sample_uscc(unit_no)
    for person in range(persons):
        id_number = sample_id_number(unit_no * 1_000 + person)
        for month in range(1, BIG_CASE_MONTHS + 1):
            writer.writerow(
                (
                    uscc,
                    f"大户{unit_no}有限公司",
                    "310101",
                    f"2025-{month:02d}",
                    id_number,
                    f"职工{person}",
                    "8000.00",
                    f"{600 + (person * 7 + month) % 300}.40",
                    "160.00",
                    f"2025-{month + 1:02d}-15",
                )
            )
    return io.BytesIO(out.getvalue().encode())


def big_case_usccs() -> list[str]:
    from units.samples import sample_uscc

    return [sample_uscc(unit_no) for unit_no, _persons in BIG_CASES.values()]


def big_case_pages() -> dict[str, tuple[str, dict]]:
    """The cases of 500 and 5,000 lines (imported the first time): name -> case page URL."""
    from django.urls import reverse

    from kernel.actors import System
    from replenish.models import ArrearsCase
    from replenish.services.arrears_import import arrears_import
    from units.samples import sample_uscc

    pages = {}
    for name, (unit_no, persons) in BIG_CASES.items():
        uscc = sample_uscc(unit_no)
        if not ArrearsCase.objects.filter(unit__uscc=uscc).exists():
            arrears_import(
                file=big_case_file(unit_no, persons),
                file_name=f"big-{unit_no}.csv",
                actor=System("bench_pages"),
            )
        case = ArrearsCase.objects.get(unit__uscc=uscc)
        lines = case.lines.count()
        if lines != persons * BIG_CASE_MONTHS:
            raise SystemExit(f"{name}: the case has {lines} lines")
        pages[name] = reverse("admin:replenish_arrearscase_change", args=[case.pk])
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--big-cases", action="store_true", help="also cases of 500 and 5,000 lines"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()  # a no-op when bench.timed has set Django up
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from notices.models import Notice
    from replenish.models import ArrearsCase

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    # The case in the middle of the list by number, with its current notice.
    # (Not one of the big cases an earlier `--big-cases` run imported.)
    cases = ArrearsCase.objects.exclude(unit__uscc__in=big_case_usccs())
    count = cases.count()
    case = cases.order_by("pk")[count // 2]
    notice = Notice.objects.filter(case=case).order_by("-pk").first()
    staff = {"user": user}
    pages = {
        "admin case list": (reverse("admin:replenish_arrearscase_changelist"), staff),
        "admin case page": (reverse("admin:replenish_arrearscase_change", args=[case.pk]), staff),
        "notice document": (reverse("notices:notice_html", args=[notice.pk]), staff),
        **extra_pages(case, notice),
    }
    if args.big_cases:
        pages.update({name: (url, staff) for name, url in big_case_pages().items()})
    result = {}
    for name, (url, how) in pages.items():
        client = Client()
        if "user" in how:
            client.force_login(how["user"])
        headers = how.get("headers", {})
        times = []
        for n in range(args.repeat + 1):
            cache.clear()  # the API's rate limit counts in the cache: not part of the latency
            started = time.perf_counter()
            response = client.get(url, **headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            if n:  # the first is a warm-up (templates, caches), not counted
                times.append(elapsed)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        result[name] = [statistics.median(times), p95]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
