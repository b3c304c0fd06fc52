"""`cases_export`: the case export of docs/formats.md, streamed in case-number order."""

import csv
from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol

from django.db.models import QuerySet

from replenish.models import ArrearsCase
from replenish.selectors import ZERO, Owed, owed_by_case


class Writable(Protocol):
    """Where the export goes: a file, or a command's standard output."""

    def write(self, text: str, /) -> object: ...


EXPORT_COLUMNS = (
    "case_no",
    "unit_uscc",
    "obligor",
    "state",
    "principal",
    "late_fee",
    "paid",
    "written_off",
    "balance",
)


def export_rows(
    *, as_of: date, cases: QuerySet[ArrearsCase] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Every case, or the cases of `cases` (a list filtered in the admin)."""
    if cases is None:
        owed = owed_by_case(None, as_of=as_of)
        cases = ArrearsCase.objects.all()
    else:
        owed = owed_by_case(cases.order_by().values_list("pk", flat=True), as_of=as_of)
    nothing = Owed(ZERO, ZERO)
    rows = (
        cases.order_by("case_no")
        .values_list(
            "pk",
            "case_no",
            "unit__uscc",
            "obligor__uscc",
            "obligor__name",
            "state",
            "paid_total",
            "written_off_total",
        )
        .iterator(chunk_size=5000)
    )
    for pk, case_no, uscc, obligor_uscc, obligor_name, state, paid, written_off in rows:
        figures = owed.get(pk, nothing)
        yield (
            case_no,
            uscc,
            # Who owes the case now: the unit itself, or the merging party, a separated party,
            # the liquidation group or the competent authority (by name when it has no USCC).
            obligor_uscc or obligor_name or uscc,
            state,
            figures.principal,
            figures.late_fee,
            paid,
            written_off,
            figures.total,
        )


def cases_export(*, out: Writable, as_of: date) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in export_rows(as_of=as_of):
        writer.writerow(row)
        count += 1
    return count
