"""Server-side latency of the staff pages, through the Django test client (no network, no browser).

    DATABASE_URL=... python -m bench.pages --repeat 20

Prints one JSON object: {page: [median_ms, p95_ms]}. Run by `bench.run` once on the full region
and once on a nearly empty database (one unit, one case, one notice); it signs in a superuser it
creates.

The portal notice list and the API call of the issue do not exist on main yet: add them to
`extra_pages` (a hook) when they do, and the benchmark measures them with the others.
"""

import argparse
import json
import os
import statistics
import time

import django


def extra_pages(case, notice) -> dict[str, str]:
    """Hook: the portal and API pages, once they exist (name -> URL)."""
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "replenish.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from notices.models import Notice
    from replenish.models import ArrearsCase

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    # The case in the middle of the list by number, with its current notice.
    count = ArrearsCase.objects.count()
    case = ArrearsCase.objects.order_by("pk")[count // 2]
    notice = Notice.objects.filter(case=case).order_by("-pk").first()
    pages = {
        "admin case list": reverse("admin:replenish_arrearscase_changelist"),
        "admin case page": reverse("admin:replenish_arrearscase_change", args=[case.pk]),
        "notice document": reverse("notices:notice_html", args=[notice.pk]),
        **extra_pages(case, notice),
    }
    client = Client()
    client.force_login(user)
    result = {}
    for name, url in pages.items():
        response = client.get(url)  # warm-up (templates, caches), not counted
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        result[name] = [statistics.median(times), p95]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
