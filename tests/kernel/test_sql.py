"""`models_insert` and `models_update`: the set-based writes the bulk services use in place of
`bulk_create` (large rows) and `bulk_update` (quadratic in the rows), on either database."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kernel.sql import json_prepared, models_insert, models_update, rows_insert
from notices.models import Notice
from replenish.models import ArrearsLine, AuditEntry, LedgerEntry, LedgerKind
from tests.factories import ArrearsCaseFactory, ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db


def test_models_insert_writes_every_field_as_bulk_create_would():
    # given two notices made in memory, one with a snapshot holding quotes and CJK text
    cases = [ArrearsCaseFactory(), ArrearsCaseFactory()]
    snapshot = {"unit": {"name": '单位"甲"有限公司'}, "lines": [{"late_fee": "1.23"}] * 3}
    notices = [
        Notice(
            case=case,
            number=f"N110105-2026-{n:06d}",
            region_code="110105",
            year=2026,
            sequence=n,
            state="issued",
            issued_on=date(2026, 11, 2),
            principal=Decimal("1000.01"),
            late_fee=Decimal("0.50"),
            total=Decimal("1000.51"),
            snapshot=snapshot,
        )
        for n, case in enumerate(cases, start=1)
    ]

    # when
    with CaptureQueriesContext(connection) as queries:
        models_insert(notices)

    # then one statement at most (COPY is not an executed query on PostgreSQL)
    assert len(queries) <= 1
    stored = list(Notice.objects.order_by("sequence"))
    assert [(n.case_id, n.number, n.state, n.total, n.snapshot) for n in stored] == [
        (case.pk, f"N110105-2026-{n:06d}", "issued", Decimal("1000.51"), snapshot)
        for n, case in enumerate(cases, start=1)
    ]
    assert all(n.created_at is not None for n in stored)


def test_models_update_writes_the_named_fields_of_each_row_only():
    # given three lines
    import_rows([ArrearsRowFactory(unit_no=1, person_no=n) for n in (1, 2, 3)])
    lines = list(ArrearsLine.objects.order_by("pk"))
    before = {line.pk: (line.employer_unpaid, line.due_date) for line in lines}

    # when two of them get a new accrual start (and an unsaved change elsewhere)
    for day, line in zip((3, 4), lines[:2], strict=False):
        line.fee_accrues_after = date(2026, 2, day)
        line.employer_unpaid = Decimal("1.00")
    with CaptureQueriesContext(connection) as queries:
        models_update(lines[:2], ["fee_accrues_after"])

    # then only that field of those rows changed
    after = {line.pk: line for line in ArrearsLine.objects.order_by("pk")}
    assert [after[line.pk].fee_accrues_after for line in lines[:2]] == [
        date(2026, 2, 3),
        date(2026, 2, 4),
    ]
    assert after[lines[2].pk].fee_accrues_after == lines[2].fee_accrues_after
    assert {pk: (line.employer_unpaid, line.due_date) for pk, line in after.items()} == before
    if connection.vendor == "postgresql":
        assert len(queries) == 1


def test_models_update_of_nothing_does_nothing():
    with CaptureQueriesContext(connection) as queries:
        models_update([], ["ended_on"])
    assert len(queries) == 0


def test_models_insert_ignoring_conflicts_leaves_the_rows_already_there_alone():
    # given a message already stored
    from notices.models import Notification

    unit = ArrearsCaseFactory().unit

    def message(key: str, address: str) -> Notification:
        return Notification(
            dedupe_key=key,
            kind="notice_issued",
            channel="portal",
            unit_id=unit.pk,
            address=address,
            context={"n": key},
            next_attempt_at=timezone.now(),
        )

    models_insert([message("a", "first")])

    # when it comes again with a new one
    models_insert([message("a", "second"), message("b", "first")], ignore_conflicts=True)

    # then the old row is unchanged and the new one is there
    assert dict(Notification.objects.values_list("dedupe_key", "address")) == {
        "a": "first",
        "b": "first",
    }


def test_models_insert_and_update_store_what_django_stores_for_every_kind_of_value():
    # given a case with a line, and entries holding each kind of value a field may be given:
    # enum members, text for decimals, decimals with fewer places, a datetime for a date, NULL
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    line = ArrearsLine.objects.get()
    recorded = timezone.now()

    def entries(source: str) -> list[LedgerEntry]:
        return [
            LedgerEntry(
                case_id=line.case_id,
                line_id=line.pk,
                kind=LedgerKind.LATE_FEE_FIXED,
                late_fee=Decimal("0.5"),
                effective_on=date(2026, 11, 2),
                recorded_at=recorded,
                actor_label="系统",
                source=source,
                reason="滞纳金",
            ),
            LedgerEntry(
                case_id=line.case_id,
                line_id=line.pk,
                kind="late_fee_fixed",
                late_fee="1.23",  # type: ignore[misc]  (text, as a form would give it)
                effective_on=timezone.localtime(recorded),  # a datetime for a date
                recorded_at=recorded,
                actor=None,
                actor_label="x",
                source=source,
            ),
        ]

    def audits(source: str) -> list[AuditEntry]:
        return [
            AuditEntry(
                case_id=line.case_id,
                subject="case",
                subject_id=line.case_id,
                transition=source,
                from_state="registered",
                to_state="notified",
                actor_label="系统",
                at=recorded,
                reason_code="arrears_imported",
                reason_args={"file": '欠费"一月".csv', "lines": [1, 2]},
            ),
            AuditEntry(  # no reason code given: the column's database default
                case_id=line.case_id,
                subject="case",
                subject_id=line.case_id,
                transition=source,
                from_state="notified",
                to_state="overdue",
                actor_label="系统",
                at=recorded,
                reason="逾期",
            ),
        ]

    # when the same rows are written by Django and by `models_insert`
    LedgerEntry.objects.bulk_create(entries("django"))
    AuditEntry.objects.bulk_create(audits("django"))
    models_insert(entries("copy"))
    models_insert(audits("copy"))

    # then they read back the same, column by column
    def stored(model, column, value) -> list[dict]:
        rows = model.objects.filter(**{column: value}).order_by("pk").values()
        return [{k: v for k, v in row.items() if k not in ("id", column)} for row in rows]

    assert stored(LedgerEntry, "source", "copy") == stored(LedgerEntry, "source", "django")
    assert len(stored(LedgerEntry, "source", "copy")) == 2
    assert stored(AuditEntry, "transition", "copy") == stored(AuditEntry, "transition", "django")
    assert [
        (a["reason_code"], a["reason_args"]) for a in stored(AuditEntry, "transition", "copy")
    ] == [
        ("arrears_imported", {"file": '欠费"一月".csv', "lines": [1, 2]}),
        ("", {}),
    ]

    # and `models_update` writes the same as saving each object would
    copied = list(LedgerEntry.objects.filter(source="copy").order_by("pk"))
    line.fee_accrues_after = date(2026, 11, 2)
    line.fee_unpaid = Decimal("1.7")
    models_update([line], ["fee_accrues_after", "fee_unpaid"])
    assert ArrearsLine.objects.values_list("fee_accrues_after", "fee_unpaid").get() == (
        date(2026, 11, 2),
        Decimal("1.70"),
    )
    assert [e.late_fee for e in copied] == [Decimal("0.50"), Decimal("1.23")]


def test_rows_insert_stores_what_django_stores_and_fills_the_other_fields_with_defaults():
    # given a line, and two entries given as values of some of their fields
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    line = ArrearsLine.objects.get()
    columns = ("case_id", "line_id", "kind", "late_fee", "effective_on", "actor_label", "source")
    rows = [
        (
            line.case_id,
            line.pk,
            LedgerKind.LATE_FEE_FIXED,
            Decimal("0.5"),
            date(2026, 11, 2),
            "系统",
            s,
        )
        for s in ("rows", "django")
    ]

    # when one is written by `rows_insert`, the other as Django writes a new instance
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        rows_insert(LedgerEntry, columns, rows[:1])
    LedgerEntry.objects.bulk_create([LedgerEntry(**dict(zip(columns, rows[1], strict=True)))])

    # then they read back the same, the defaults included (no amount is 0.00, a time is now)
    copied, created = (
        LedgerEntry.objects.filter(source=s).values().get() for s in ("rows", "django")
    )
    assert len(queries) <= 1
    assert copied["recorded_at"] >= before
    different = {"id", "source", "recorded_at"}
    assert {k: v for k, v in copied.items() if k not in different} == {
        k: v for k, v in created.items() if k not in different
    }
    assert (copied["employer"], copied["late_fee"], copied["reason"]) == (
        Decimal("0.00"),
        Decimal("0.50"),
        "",
    )


def test_a_json_value_prepared_once_is_stored_by_every_row_that_shares_it():
    # given a line and the arguments of one reason, shared by three entries: prepared once, and
    # given as they are
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    line = ArrearsLine.objects.get()
    args = {"arrival": '到账"1"', "why": {"code": "arrival", "args": {"arrival": "A1"}}}
    columns = (
        *("case_id", "line_id", "kind", "late_fee", "effective_on", "actor_label", "source"),
        *("reason_code", "reason_args"),
    )

    def row(source, value):
        fields = (line.case_id, line.pk, "late_fee_fixed", Decimal("0.01"), date(2026, 11, 2))
        return (*fields, "系统", source, "arrival", value)

    # when they are written
    shared = json_prepared(args)
    rows_insert(LedgerEntry, columns, [row("shared", shared), row("shared", shared)])
    rows_insert(LedgerEntry, columns, [row("plain", args)])

    # then each stores the arguments, the same as the one given as a dict
    written = LedgerEntry.objects.exclude(kind="assessed").order_by("pk")
    stored = list(written.values_list("source", "reason_args"))
    assert stored == [("shared", args), ("shared", args), ("plain", args)]


def test_rows_insert_leaves_a_column_not_named_to_its_database_default():
    # given an audit row given without its reason code and arguments
    case = ArrearsCaseFactory()
    columns = ("case_id", "subject", "subject_id", "transition", "from_state", "to_state")
    row = (case.pk, "case", case.pk, "notify", "registered", "notified")

    # when it is written with the actor's label and time
    rows_insert(AuditEntry, (*columns, "actor_label", "at"), [(*row, "系统", timezone.now())])

    # then the code is empty and the arguments an empty object, as the columns' defaults say
    stored = AuditEntry.objects.get(transition="notify")
    assert (stored.reason_code, stored.reason_args, stored.reason) == ("", {}, "")


@pytest.mark.postgres
def test_rows_insert_leaves_the_columns_the_database_fills_to_the_tables_default():
    # given a line, and an entry given without the time it is recorded
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    line = ArrearsLine.objects.get()
    columns = ("case_id", "line_id", "kind", "late_fee", "effective_on", "actor_label")
    row = (line.case_id, line.pk, LedgerKind.LATE_FEE_FIXED, Decimal("0.5"), date(2026, 11, 2))
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_timestamp()")
        started = cursor.fetchone()[0]

    # when it is written with the recording time left to the database
    rows_insert(LedgerEntry, columns, [(*row, "系统")], database_fills=("recorded_at",))

    # then the table's default wrote it: the start of this transaction, not the process's clock
    assert LedgerEntry.objects.filter(kind=LedgerKind.LATE_FEE_FIXED).get().recorded_at == started


def test_rows_insert_refuses_to_leave_a_column_to_a_default_only_postgresql_has():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL writes the default")
    # given a line
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    line = ArrearsLine.objects.get()
    columns = ("case_id", "line_id", "kind", "late_fee", "effective_on", "actor_label")
    row = (line.case_id, line.pk, LedgerKind.LATE_FEE_FIXED, Decimal("0.5"), date(2026, 11, 2))

    # when an entry is written with its time left to a default SQLite's table does not have
    with pytest.raises(ValueError, match="PostgreSQL only"):
        rows_insert(LedgerEntry, columns, [(*row, "系统")], database_fills=("recorded_at",))

    # then nothing was written
    assert not LedgerEntry.objects.filter(kind=LedgerKind.LATE_FEE_FIXED).exists()
