"""What changed since a reader last looked: the readers that follow the ledger and the audit trail
instead of reading the whole region every day (the paid-month feed, the agreements' fulfilment
check) keep a `ReadingMark` each.

A ledger entry is recorded at the start of its transaction by the database's clock (the column's
default on PostgreSQL: `ledger._database_records_the_time`), before that transaction commits. A
reader that takes its mark as the start of the oldest transaction open when it reads, by the same
clock, and reads what was recorded since its previous mark, misses nothing: an entry it could not
see was written by a transaction open then, so it was recorded at the mark or after. The audit
trail is written at the process's clock (`AuditEntry.at`): it is read from a minute before the
mark, for the web and worker hosts' clocks.
"""

import logging
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from replenish.models import AuditEntry, LedgerEntry, ReadingMark

logger = logging.getLogger(__name__)

# How far the process's clock (the audit trail's `at`) may be behind the database's.
PROCESS_CLOCK_MARGIN = timedelta(minutes=1)

# The BRIN index of the ledger's `recorded_at` (migration 0024): a page range no summary covers
# yet matches every search, and an import or an adjustment appends thousands of pages at once.
LEDGER_RECORDED_AT_INDEX = "ledger_recorded_at_brin"


def reading_mark_lock(reader: ReadingMark.Reader) -> ReadingMark:
    """The reader's mark, locked: two readings at once read one after the other."""
    ReadingMark.objects.bulk_create([ReadingMark(reader=reader)], ignore_conflicts=True)
    return ReadingMark.objects.select_for_update().get(reader=reader)


def reading_mark_of(reader: ReadingMark.Reader) -> datetime | None:
    """Since when the reader must read again: None (everything) before its first reading."""
    return ReadingMark.objects.filter(reader=reader).values_list("read_from", flat=True).first()


def reading_mark_advance(reader: ReadingMark.Reader, read_from: datetime) -> None:
    """Move the reader's mark on to `read_from`, once everything recorded before it was read. A
    mark is never moved back: a reading that began earlier and ends later read nothing the one
    that moved it further had not read."""
    ReadingMark.objects.bulk_create([ReadingMark(reader=reader)], ignore_conflicts=True)
    ReadingMark.objects.filter(reader=reader).update(
        read_from=Greatest("read_from", Value(read_from)), read_at=timezone.now()
    )
    # Greatest of NULL and a time is NULL on SQLite (PostgreSQL skips the NULL): the first
    # reading sets the mark here.
    ReadingMark.objects.filter(reader=reader, read_from__isnull=True).update(read_from=read_from)


def oldest_open_transaction_start() -> datetime:
    """When the oldest transaction now open on the database began (this one included): an entry
    not visible yet was recorded by one of them, so not before. On SQLite a writing transaction
    holds the database's write lock from its start (`transaction_mode` IMMEDIATE): read inside
    one, no other writer is open, so now."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL"
        )
        oldest = cursor.fetchone()[0]
    return oldest if oldest is not None else timezone.now()


def times_summarized(index: str) -> None:
    """Summarize the page ranges appended to a BRIN index's table since it was last summarized
    (PostgreSQL), so that a search of what was recorded since a mark reads only their pages, not
    every page appended since the table was last vacuumed."""
    if connection.vendor != "postgresql":
        return
    try:
        # In a savepoint: a role that does not own the index may not summarize it, and the
        # reading goes on without (it then reads the pages not yet summarized as well).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT brin_summarize_new_values(%s::regclass)", [index])
    except DatabaseError as refused:
        logger.warning("the index %s not summarized: %s", index, refused)


def cases_changed_since(since: datetime, *, transitions: Q) -> "QuerySet[LedgerEntry, int]":
    """The cases with a ledger entry recorded since `since`, or with an audit entry matching
    `transitions` (which of a case's transitions, or of what belongs to it, the reader follows)
    written since then. A reader gives the trail an index of its transitions by time (such as
    `audit_may_fulfil_at`): the trail of a day holds every notice and arrival of the region.
    A query of their keys, to filter by (`case_id__in`): the database joins, no list of keys
    travels."""
    times_summarized(LEDGER_RECORDED_AT_INDEX)
    money = LedgerEntry.objects.filter(recorded_at__gte=since)
    audited = AuditEntry.objects.filter(
        transitions, at__gte=since - PROCESS_CLOCK_MARGIN, case_id__isnull=False
    )
    return (
        money.order_by()
        .values_list("case_id", flat=True)
        .union(audited.order_by().values_list("case_id", flat=True))
    )
