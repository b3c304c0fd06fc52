"""The statistics page for the agency's superiors (issue 19, part 6): per region and month the
arrears established, the principal and the fee recovered and the amounts written off, exactly as
the ledger says; per region what is owed today and its aging, as the dashboard and the case list
count it; charts drawn on the server with nothing fetched; the same tables as an Excel workbook."""

import io
import re
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from backoffice import dashboard
from backoffice.statistics import statistics
from replenish.departments import AUDIT
from replenish.models import LedgerEntry, LedgerKind
from replenish.services.arrival import arrivals_post
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db
URL = reverse("admin:replenish_statistics")
D = Decimal
OTHER_REGION = "310104"


@pytest.fixture
def year_of_work():
    """Two units of the default region and one of another owe for 2025-12 and 2026-01; unit 1
    pays 300.00 on 2026-03-01, which the late fee takes first."""
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=2, person_no=2, period="2026-01", due_date="2026-02-15"),
            ArrearsRowFactory(unit_no=3, person_no=3, region_code=OTHER_REGION),
        ]
    )
    import_arrivals([ArrivalRowFactory(unit_no=1, amount="300.00", arrived_on="2026-03-01")])
    arrivals_post(actor=SYSTEM)


def ledger_sum(kinds, expression):
    return -(
        LedgerEntry.objects.filter(kind__in=kinds, effective_on__year=2026).aggregate(
            total=Sum(expression)
        )["total"]
        or D(0)
    )


def test_the_figures_are_the_ledgers_and_the_aging_the_dashboards(year_of_work):
    today = timezone.localdate()
    stats = statistics(2026, today)

    total = stats.year_total()
    assert -total.established == ledger_sum(
        [LedgerKind.ASSESSED, LedgerKind.CORRECTION], F("employer") + F("employee")
    )
    assert total.established == D("3000.00")
    paid = [LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED]
    assert total.recovered_principal == ledger_sum(paid, F("employer") + F("employee"))
    assert total.recovered_fee == ledger_sum(paid, F("late_fee"))
    assert total.recovered == D("300.00") and total.recovered_fee > 0
    march = next(m for m in stats.totals_by_month() if m.month == 3)
    assert march.recovered == D("300.00")
    assert [r.region for r in stats.regions] == sorted({r.region for r in stats.regions})
    assert OTHER_REGION in [r.region for r in stats.regions]
    # what each region owes today sums to the dashboard's aging, bucket by bucket
    for row in dashboard.aging(today):
        assert sum((r.aging[row["key"]]["owed"] for r in stats.regions), D(0)) == row["owed"]
        assert sum((r.aging[row["key"]]["cases"] for r in stats.regions), 0) == row["cases"]
    assert sum((r.owed_today for r in stats.regions), D(0)) == sum(
        (row["owed"] for row in dashboard.owed_by_state(today)), D(0)
    )


def test_one_region_alone(year_of_work):
    stats = statistics(2026, timezone.localdate(), OTHER_REGION)
    assert [r.region for r in stats.regions] == [OTHER_REGION]
    assert stats.year_total().established == D("1000.00")
    assert stats.year_total().recovered == 0


def test_the_page_shows_tables_and_charts_and_fetches_nothing(client, year_of_work):
    client.force_login(department_user(AUDIT, "auditor"))
    html = client.get(URL, {"year": "2026"}).content.decode()
    assert "统计报表" in html and "追回本金" in html
    assert html.count("<svg") >= 2
    charts = html.split('id="chart-by-month"')[1].split('id="by-month"')[0]
    charts += html.split('id="chart-outstanding"')[1].split('id="outstanding"')[0]
    assert "<script" not in charts
    assert not re.findall(r"(?:src|href)=\"https?:", charts)  # nothing to fetch
    assert "3,000.00" in html  # established, with thousands separators
    assert f"region={OTHER_REGION}" in html


def test_a_wrong_year_or_region_says_so_and_shows_this_year(client, year_of_work):
    client.force_login(department_user(AUDIT, "auditor"))
    html = client.get(URL, {"year": "20x6", "region": "31"}).content.decode()
    assert "请输入整数" in html or "整数" in html
    assert "行政区划代码为 6 位数字" in html
    # and the Excel export of a wrong request is not a file
    response = client.get(URL, {"year": "20x6", "format": "xlsx"})
    assert response["Content-Type"].startswith("text/html")


def test_the_excel_workbook_holds_the_same_figures(client, year_of_work):
    client.force_login(department_user(AUDIT, "auditor"))
    response = client.get(URL, {"year": "2026", "region": "", "format": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="statistics-2026.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    flows, outstanding = book.worksheets
    assert flows.title == "按地区和月份"
    rows = list(flows.iter_rows(values_only=True))
    assert rows[0][:4] == ("行政区划代码", "地区", "月份", "确认欠费")
    assert rows[-1][0] == "合计" and D(str(rows[-1][3])) == D("3000.00")
    assert len(rows) == 1 + 12 * 2 + 1  # a row per region and month, and the total
    stats = statistics(2026, timezone.localdate())
    assert [row[0] for row in outstanding.iter_rows(min_row=2, values_only=True)] == [
        r.region for r in stats.regions
    ]
