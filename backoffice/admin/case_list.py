"""The case list's filters, search and paginator.

The list must stay fast on millions of cases: its filters are `EXISTS`/indexed conditions, the
ID-number search is an exact match through the person's unique index, and the unfiltered list on
PostgreSQL never counts the whole table (the planner's estimate stands in; see `CaseListPaginator`).
"""

from datetime import timedelta
from functools import cached_property

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.queues import QUEUES, queue
from replenish.models import Agreement, AgreementKind, ArrearsLine
from units.identifiers import validate_id_number
from units.models import UnitStatus
from units.regions import region_labels

# (key, label, fewest days overdue, most days overdue or None)
OVERDUE_BUCKETS = [
    ("0-30", _("0–30 days"), 0, 30),
    ("31-90", _("31–90 days"), 31, 90),
    ("91-180", _("91–180 days"), 91, 180),
    ("181-365", _("181–365 days"), 181, 365),
    ("365+", _("over 365 days"), 366, None),
]

UNPAID = Q(employer_unpaid__gt=0) | Q(employee_unpaid__gt=0) | Q(fee_unpaid__gt=0)


def overdue_bucket_q(key: str, today=None) -> Q | None:
    """Cases whose oldest unpaid line fell due within the bucket's days before today."""
    today = today or timezone.localdate()
    for bucket, _label, low, high in OVERDUE_BUCKETS:
        if bucket != key:
            continue
        unpaid = ArrearsLine.objects.filter(UNPAID, case=OuterRef("pk"))
        latest = today - timedelta(days=low)
        inside = unpaid.filter(due_date__lte=latest)
        if high is None:
            return Q(Exists(inside))
        earliest = today - timedelta(days=high)
        older = unpaid.filter(due_date__lt=earliest)
        return Q(Exists(inside.filter(due_date__gte=earliest))) & ~Q(Exists(older))
    return None


class OverdueFilter(admin.SimpleListFilter):
    title = _("days overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _low, _high in OVERDUE_BUCKETS]

    def queryset(self, request, queryset):
        condition = overdue_bucket_q(self.value()) if self.value() else None
        return queryset.filter(condition) if condition is not None else queryset


class RegionFilter(admin.SimpleListFilter):
    """The regions that have rows (cases, notices), each with its name. Django's own filter for
    a field lists its values with a `SELECT DISTINCT` over every row on each view; this walks the
    region index instead, one probe per region (a loose index scan), so the list does not slow
    down as rows accumulate."""

    title = _("region code")
    parameter_name = "region_code"

    def lookups(self, request, model_admin):
        table = model_admin.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE regions(code) AS (
                    SELECT min(region_code) FROM {table}
                    UNION ALL
                    SELECT (SELECT min(region_code) FROM {table} WHERE region_code > code)
                    FROM regions WHERE code IS NOT NULL
                )
                SELECT code FROM regions WHERE code IS NOT NULL
                """
            )
            return region_labels(code for (code,) in cursor.fetchall())

    def queryset(self, request, queryset):
        return queryset.filter(region_code=self.value()) if self.value() else queryset


class ObligorStatusFilter(admin.SimpleListFilter):
    """The status of the unit that owes (active, merged, split, bankrupt, auctioned): it decides
    with whom the case is settled."""

    title = _("obligor status")
    parameter_name = "unit_status"

    def lookups(self, request, model_admin):
        return UnitStatus.choices

    def queryset(self, request, queryset):
        if self.value() in UnitStatus.values:
            return queryset.filter(unit__status=self.value())
        return queryset


class AgreementKindFilter(admin.SimpleListFilter):
    title = _("agreement kind")
    parameter_name = "agreement_kind"

    def lookups(self, request, model_admin):
        return AgreementKind.choices

    def queryset(self, request, queryset):
        if self.value() in AgreementKind.values:
            kind = Agreement.objects.filter(case=OuterRef("pk"), kind=self.value())
            return queryset.filter(Exists(kind))
        return queryset


class QueueFilter(admin.SimpleListFilter):
    """The departments' queues of cases (replenish/queues.py), each for whoever works it."""

    title = _("department queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (q.key, f"{q.department}: {q.label}")
            for q in QUEUES
            if q.changelist == "admin:replenish_arrearscase_changelist"
            and request.user.has_perm(q.permission)
        ]

    def queryset(self, request, queryset):
        chosen = queue(self.value()) if self.value() else None
        if chosen is None or chosen.changelist != "admin:replenish_arrearscase_changelist":
            return queryset
        return queryset.filter(pk__in=chosen.queryset().values("pk"))


def search_by_id_number(queryset, term: str):
    """A citizen ID number finds its person's cases by exact match only (never a prefix or a
    part: that would make the list a lookup service for personal data)."""
    try:
        term = validate_id_number(term.strip())
    except ValidationError:
        return None
    lines = ArrearsLine.objects.filter(case=OuterRef("pk"), person__id_number=term)
    return queryset.filter(Exists(lines))


class CaseListPaginator(Paginator):
    """Counts the rows of a filtered list, but not of the whole table on PostgreSQL: there the
    planner's estimate (`pg_class.reltuples`) is the count, and when the table was never
    analysed, the number of rows found up to a bound (a fetch of keys, no `COUNT`)."""

    BOUND = 1000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        unfiltered = not queryset.query.where
        if not (unfiltered and connection.vendor == "postgresql"):
            return super().count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        estimate = int(row[0]) if row else -1
        if estimate >= self.BOUND:
            return estimate
        return len(queryset.values_list("pk", flat=True)[: self.BOUND])
