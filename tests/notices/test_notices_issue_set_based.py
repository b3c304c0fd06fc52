"""`notices_issue_bulk` set-based (notices.bulk_sql, PostgreSQL) writes exactly what the Python
path writes for the same cases on the same day: every notice field by field (the snapshot
included), the audit rows, the cases' transitions and the delivery messages (issue 21). And the
late fee of a line computed in SQL equals `line_fee_due` on random lines."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from kernel.money import LateFeePolicy, line_fee_due
from notices.bulk_sql import fee_due_sql
from notices.models import Notice, Notification
from notices.services import notices_issue_bulk
from replenish.models import ArrearsCase, ArrearsLine, AuditEntry
from replenish.selectors import line_fee_state
from tests.factories import SYSTEM, ArrearsRowFactory, UnitContactFactory, import_rows
from units.models import Unit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ISSUED_ON = date(2026, 3, 1)
NOTICE_FIELDS = [f.name for f in Notice._meta.concrete_fields if f.name not in ("id", "created_at")]


def region() -> None:
    """Five units in two regions, several persons and periods, lines with fees already fixed,
    accrual stopped (bankruptcy), principal partly paid, due dates before and across the rate
    change of 2011-07-01, and a line paid off that stays out of the notice."""
    rows = []
    for unit in range(1, 6):
        for person in range(1, 4):
            for month, due in (("2025-11", "2025-12-15"), ("2025-12", "2026-01-15")):
                rows.append(
                    ArrearsRowFactory(
                        unit_no=unit,
                        person_no=unit * 10 + person,
                        period=month,
                        due_date=due,
                        employer_amount=f"{300 + 37 * unit + person}.{unit}5",
                        employee_amount=f"{60 + person}.0{person}",
                        region_code="310104" if unit % 2 else "110101",
                    )
                )
    import_rows(rows)
    for unit in Unit.objects.order_by("pk")[:3]:
        UnitContactFactory(unit=unit, email=f"caiwu{unit.pk}@example.cn", mobile="13800000000")
    lines = list(ArrearsLine.objects.order_by("pk"))
    # an old line, across the rate change, with a fee fixed on 2011-03-31 (a half fen)
    old = lines[0]
    old.due_date, old.fee_accrues_after = date(2010, 12, 15), date(2011, 3, 31)
    old.fee_unpaid = old.fee_fixed_total = Decimal("123.45")
    # accrual stopped on 2026-01-31 (bankruptcy accepted the next day)
    lines[3].fee_stops_on = date(2026, 1, 31)
    # accrual stopped after the issue date: still accruing
    lines[4].fee_stops_on = date(2026, 6, 30)
    # principal partly paid on 2026-02-10, the fee fixed then
    paid = lines[7]
    paid.employer_unpaid = paid.employer_amount - Decimal("100.01")
    paid.fee_accrues_after = date(2026, 2, 10)
    paid.fee_unpaid, paid.fee_fixed_total = Decimal("3.17"), Decimal("4.00")
    # paid off: left out of the notice
    gone = lines[9]
    gone.employer_unpaid = gone.employee_unpaid = gone.fee_unpaid = Decimal("0.00")
    # only the fee left
    fee_only = lines[12]
    fee_only.employer_unpaid = fee_only.employee_unpaid = Decimal("0.00")
    fee_only.fee_unpaid = Decimal("8.88")
    ArrearsLine.objects.bulk_update(
        lines,
        [
            "due_date",
            "fee_accrues_after",
            "fee_unpaid",
            "fee_fixed_total",
            "fee_stops_on",
            "employer_unpaid",
            "employee_unpaid",
        ],
    )


def issued(*, set_based: bool) -> dict:
    """Issue the notices by one path and read back what it wrote; then undo it all."""
    with transaction.atomic():
        notices_issue_bulk(issued_on=ISSUED_ON, actor=SYSTEM, set_based=set_based, batch_size=3)
        number = dict(Notice.objects.values_list("pk", "number"))
        result = {
            "notices": {
                n["number"]: n for n in Notice.objects.order_by("number").values(*NOTICE_FIELDS)
            },
            "audit": sorted(
                (
                    a.case_id,
                    a.subject,
                    number.get(a.subject_id, a.subject_id)
                    if a.subject == "notice"
                    else a.subject_id,
                    a.transition,
                    a.from_state,
                    a.to_state,
                    a.actor_label,
                    a.reason,
                )
                for a in AuditEntry.objects.all()
            ),
            "cases": sorted(ArrearsCase.objects.values_list("pk", "state")),
            "messages": sorted(
                (
                    number[m.notice_id],
                    m.dedupe_key.replace(f"notice:{m.notice_id}:", "notice:"),
                    m.kind,
                    m.channel,
                    m.unit_id,
                    m.address,
                    m.case_id,
                    m.state,
                    sorted(m.context.items()),
                )
                for m in Notification.objects.all()
            ),
        }
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("cap", [False, True])
def test_the_set_based_path_writes_exactly_what_the_python_path_writes(settings, cap):
    # given a region with every kind of line, the cap on or off
    settings.LATE_FEE_CAP_AT_PRINCIPAL = cap
    region()
    if cap:
        # a fee that the cap cuts: little room left under the assessed principal
        line = ArrearsLine.objects.order_by("pk")[1]
        line.fee_fixed_total = line.employer_amount + line.employee_amount - Decimal("0.05")
        line.fee_unpaid = Decimal("1.00")
        line.save(update_fields=["fee_fixed_total", "fee_unpaid"])

    # when both paths issue the notices of the same cases on the same day
    python, sql = issued(set_based=False), issued(set_based=True)

    # then every notice is the same, field by field, and so is everything else written
    assert len(python["notices"]) == 5
    assert python["notices"].keys() == sql["notices"].keys()
    for number, notice in python["notices"].items():
        for field in NOTICE_FIELDS:
            assert sql["notices"][number][field] == notice[field], (number, field)
    assert sql["audit"] == python["audit"]
    assert sql["cases"] == python["cases"]
    assert sql["messages"] == python["messages"]
    # every unit on the portal, three by e-mail and by SMS too
    assert len(python["messages"]) == 5 + 3 + 3
    # and the lines the test meant to cover are in the snapshots
    lines = [line for n in sql["notices"].values() for line in n["snapshot"]["lines"]]
    assert len(lines) == 29  # 30 lines, one paid off
    assert "2010-12-15" in {line["due_date"] for line in lines}


LINE_COLUMNS = (
    "employer_unpaid, employee_unpaid, fee_unpaid, fee_fixed_total, employer_amount, "
    "employee_amount, fee_accrues_after, fee_stops_on"
)
LINE_VALUES = ", ".join(["%s::numeric"] * 6 + ["%s::date"] * 2)


def fee_in_sql(line: tuple, *, as_of: date, cap: bool) -> Decimal:
    """`fee_due_sql` on one line given as its LINE_FEE_FIELDS values."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {fee_due_sql(as_of='d.as_of', cap=cap)} "
            f"FROM (VALUES ({LINE_VALUES})) AS l({LINE_COLUMNS}), (SELECT %s::date AS as_of) AS d",
            [*line, as_of],
        )
        [(fee,)] = cursor.fetchall()
    return fee


def fen(low: int = 0, high: int = 2_000_000) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


DAYS = st.dates(min_value=date(2009, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def lines(draw):
    employer_amount, employee_amount = draw(fen()), draw(fen())
    employer_unpaid = draw(fen(0, int(employer_amount * 100)))
    employee_unpaid = draw(fen(0, int(employee_amount * 100)))
    fixed_total = draw(fen(0, int((employer_amount + employee_amount) * 120)))
    fee_unpaid = draw(fen(0, int(fixed_total * 100)))
    accrues_after = draw(DAYS)
    stops_on = draw(st.none() | DAYS)
    return (
        employer_unpaid,
        employee_unpaid,
        fee_unpaid,
        fixed_total,
        employer_amount,
        employee_amount,
        accrues_after,
        stops_on,
    )


@examples(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=lines(), as_of=DAYS, cap=st.booleans())
def test_the_fee_in_sql_is_the_fee_in_python_on_random_lines(line, as_of, cap):
    # given a random line (rates change on 2011-07-01, stops, cap on or off)
    # when the SQL and the Python rule compute its fee due as of a random day
    in_sql = fee_in_sql(line, as_of=as_of, cap=cap)

    # then they agree to the fen, and in the way the snapshot prints it
    in_python = line_fee_due(
        line_fee_state(*line), as_of=as_of, policy=LateFeePolicy(cap_at_principal=cap)
    )
    assert str(in_sql) == str(in_python)


@pytest.mark.parametrize(
    ("unpaid", "accrues_after", "as_of", "fee"),
    [
        # 10.00 for one day at 0.0005: exactly half a fen, rounded up
        ("10.00", date(2026, 1, 1), date(2026, 1, 2), "0.01"),
        # 2.50 for one day at 0.002 (before 2011-07-01): exactly half a fen
        ("2.50", date(2011, 1, 1), date(2011, 1, 2), "0.01"),
        # 30.00 on 30 June at 0.002 and 1 July at 0.0005: 0.06 + 0.015 = 0.075 -> 0.08
        ("30.00", date(2011, 6, 29), date(2011, 7, 1), "0.08"),
    ],
)
def test_the_fee_in_sql_rounds_an_exact_half_fen_up_across_the_rate_change(
    unpaid, accrues_after, as_of, fee
):
    # given a line whose fee ends in exactly half a fen
    amount = Decimal(unpaid)
    zero = Decimal("0.00")
    line = (amount, zero, zero, zero, amount, zero, accrues_after, None)
    # then both round it up
    assert str(fee_in_sql(line, as_of=as_of, cap=False)) == fee
    assert str(line_fee_due(line_fee_state(*line), as_of=as_of)) == fee
