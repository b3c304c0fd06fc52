"""`models_insert` and `models_update`: the set-based writes the bulk services use in place of
`bulk_create` (large rows) and `bulk_update` (quadratic in the rows), on either database."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kernel.sql import models_insert, models_update
from notices.models import Notice
from replenish.models import ArrearsLine
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
