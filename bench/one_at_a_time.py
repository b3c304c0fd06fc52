"""The daily run's deadline work done one object at a time through the ORM: the baseline the
set-based `run_daily` is compared with.

    DATABASE_URL=... python -m bench.one_at_a_time --date 2026-11-22

For every notified case whose current notice's deadline is before the date, one transaction that
loads and locks the case, runs the declared transition `deadline_pass` (which writes its audit row)
and saves it: what a naive loop over `ArrearsCase.objects.filter(...)` would do.
"""

import argparse
import os
from datetime import date

import django


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()  # a no-op when bench.timed has set Django up
    from django.db import transaction

    from kernel.actors import System
    from notices.models import CURRENT_NOTICE_STATES, Notice
    from replenish.models import ArrearsCase, CaseState
    from replenish.services.transitions import transition_apply

    actor = System("bench_one_at_a_time")
    moved = 0
    for case in ArrearsCase.objects.filter(state=CaseState.NOTIFIED).order_by("pk").iterator():
        due = Notice.objects.filter(
            case=case, state__in=CURRENT_NOTICE_STATES, deadline__lt=args.date
        ).exists()
        if not due:
            continue
        with transaction.atomic():
            locked = ArrearsCase.objects.select_for_update().get(pk=case.pk)
            transition_apply(
                locked, "deadline_pass", actor=actor, reason=f"notice deadline passed ({args.date})"
            )
        moved += 1
    print(f"{moved} case(s) overdue")


if __name__ == "__main__":
    main()
