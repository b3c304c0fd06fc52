"""The statistics for the agency's superiors: per region and month of a year, the arrears
established, the money recovered (principal and late fee), the amounts written off; per region,
what is outstanding today and its aging. Each figure is one set-based query over the ledger or the
lines; the charts are drawn by pygal as SVG on the server (nothing is fetched by the browser) and
the same tables go out as an Excel workbook."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

import pygal
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from pygal.style import Style

from backoffice.admin.case_list import OVERDUE_BUCKETS
from replenish.models import OPEN_STATES, ArrearsCase
from replenish.models.ledger import LedgerEntry, LedgerKind
from replenish.owed_today import EMPTY_AGING, aging_by_region, owed_by_region
from units.regions import region_label, region_names

ZERO = Decimal("0.00")
FLOW_FIELDS = ("established", "recovered_principal", "recovered_fee", "written_off")


@dataclass
class MonthFigures:
    region: str
    month: int  # 1..12
    established: Decimal = ZERO  # principal assessed (imports) and corrected (corrections)
    recovered_principal: Decimal = ZERO  # payments applied, net of reversals
    recovered_fee: Decimal = ZERO
    written_off: Decimal = ZERO  # principal and fee
    label: str = ""  # the region's code and name

    @property
    def recovered(self) -> Decimal:
        return self.recovered_principal + self.recovered_fee


@dataclass
class RegionFigures:
    region: str
    label: str = ""
    cases_open: int = 0
    principal_unpaid: Decimal = ZERO
    owed_today: Decimal = ZERO
    aging: dict[str, dict] = field(default_factory=dict)  # bucket key -> cases, principal, owed


@dataclass
class Statistics:
    year: int
    as_of: date
    months: list[MonthFigures]  # region by region, month by month
    regions: list[RegionFigures]
    labels: dict[str, str] = field(default_factory=dict)  # region code -> "code name"

    def totals_by_month(self) -> list[MonthFigures]:
        totals = {m: MonthFigures(region="", month=m) for m in range(1, 13)}
        for row in self.months:
            total = totals[row.month]
            for name in FLOW_FIELDS:
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return list(totals.values())

    def year_total(self, region: str | None = None) -> MonthFigures:
        """The year's flows of one region, or of all."""
        total = MonthFigures(region=region or "", month=0, label=self.labels.get(region or "", ""))
        for row in self.months:
            if region is None or row.region == region:
                for name in FLOW_FIELDS:
                    setattr(total, name, getattr(total, name) + getattr(row, name))
        return total

    def year_by_region(self) -> list[MonthFigures]:
        return [self.year_total(r.region) for r in self.regions]


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def statistics(year: int, as_of: date, region: str = "") -> Statistics:
    """The figures of `year` (money flows by the ledger's effective day) and of today (what is
    outstanding), for one region or all."""
    entries = LedgerEntry.objects.filter(effective_on__year=year)
    cases = ArrearsCase.objects.all()
    if region:
        entries = entries.filter(case__region_code=region)
        cases = cases.filter(region_code=region)
    flows: dict[tuple[str, int], MonthFigures] = {}
    rows = (
        entries.annotate(month=TruncMonth("effective_on"))
        .order_by()
        .values("case__region_code", "month", "kind")
        .annotate(principal=Sum(F("employer") + F("employee")), fee=Sum("late_fee"))
    )
    for row in rows:
        key = (row["case__region_code"], row["month"].month)
        figures = flows.setdefault(key, MonthFigures(region=key[0], month=key[1]))
        principal, fee = _money(row["principal"]), _money(row["fee"])
        kind = row["kind"]
        if kind in (LedgerKind.ASSESSED, LedgerKind.CORRECTION):
            figures.established += principal
        elif kind in (LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED):
            figures.recovered_principal -= principal
            figures.recovered_fee -= fee
        elif kind == LedgerKind.WRITTEN_OFF:
            figures.written_off -= principal + fee
    open_cases = {
        r["region_code"]: r
        for r in cases.filter(state__in=OPEN_STATES)
        .order_by()
        .values("region_code")
        .annotate(n=Count("pk"), principal=Sum("principal_unpaid"))
    }
    owed = owed_by_region(as_of)
    aging: dict[str, dict[str, dict]] = defaultdict(dict)
    for (code, bucket), found in aging_by_region(as_of, OVERDUE_BUCKETS).items():
        aging[code][bucket] = found
    codes = sorted(({code for code, _m in flows} | set(open_cases)) if not region else {region})
    names = region_names()
    labels = {code: region_label(code, names) for code in codes}
    regions = [
        RegionFigures(
            region=code,
            label=labels[code],
            cases_open=int(open_cases.get(code, {}).get("n") or 0),
            principal_unpaid=_money(open_cases.get(code, {}).get("principal")),
            owed_today=owed.get(code, ZERO),
            aging={
                key: aging.get(code, {}).get(key, dict(EMPTY_AGING))
                for key, _label, _low, _high in OVERDUE_BUCKETS
            },
        )
        for code in codes
    ]
    months = [
        flows.get((code, month), MonthFigures(region=code, month=month))
        for code in codes
        for month in range(1, 13)
    ]
    return Statistics(year=year, as_of=as_of, months=months, regions=regions, labels=labels)


# --- charts -------------------------------------------------------------------------------------

STYLE = Style(
    background="white",
    plot_background="white",
    font_family="'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif",
    colors=("#417690", "#79aec8", "#ba2121", "#e0a800"),
)


def _chart(kind, title: str) -> pygal.Graph:
    # No script: pygal's tooltips load a script from the internet, which a closed network
    # cannot reach; the values are in the tables beside the charts.
    return kind(
        title=title,
        style=STYLE,
        js=[],
        width=900,
        height=360,
        legend_at_bottom=True,
        show_minor_x_labels=True,
        value_formatter=lambda v: f"{v:,.2f}",
        disable_xml_declaration=True,
    )


def _svg(chart: pygal.Graph) -> str:
    """The chart as inline SVG, without the configuration script pygal writes for its tooltip
    script (not loaded: see `_chart`)."""
    return SCRIPT.sub("", chart.render(is_unicode=True))


SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def chart_by_month(stats: Statistics) -> str:
    """Established, recovered and written off by month, all regions shown: bars (SVG)."""
    chart = _chart(pygal.Bar, _("%(year)s by month (yuan)") % {"year": stats.year})
    totals = stats.totals_by_month()
    chart.x_labels = [f"{stats.year}-{t.month:02d}" for t in totals]
    chart.add(_("arrears established"), [float(t.established) for t in totals])
    chart.add(_("principal recovered"), [float(t.recovered_principal) for t in totals])
    chart.add(_("late fee recovered"), [float(t.recovered_fee) for t in totals])
    chart.add(_("written off"), [float(t.written_off) for t in totals])
    return _svg(chart)


def chart_outstanding(stats: Statistics) -> str:
    """What each region owes today, by the age of its cases' oldest unpaid month: stacked bars."""
    chart = _chart(
        pygal.StackedBar,
        _("Owed today by region and age (yuan, %(day)s)") % {"day": stats.as_of},
    )
    chart.x_labels = [r.label for r in stats.regions]
    chart.x_label_rotation = 30 if len(stats.regions) > 6 else 0
    for key, label, _low, _high in OVERDUE_BUCKETS:
        chart.add(str(label), [float(r.aging[key]["owed"]) for r in stats.regions])
    return _svg(chart)


# --- the Excel workbook -------------------------------------------------------------------------


def workbook(stats: Statistics) -> bytes:
    book = Workbook()
    flows = book.active
    flows.title = _("by region and month")
    flows.append(
        [
            _("region code"),
            _("region"),
            _("month"),
            _("arrears established"),
            _("principal recovered"),
            _("late fee recovered"),
            _("recovered"),
            _("written off"),
        ]
    )
    for row in stats.months:
        flows.append(
            [
                row.region,
                stats.labels.get(row.region, "").removeprefix(row.region).strip(),
                f"{stats.year}-{row.month:02d}",
                row.established,
                row.recovered_principal,
                row.recovered_fee,
                row.recovered,
                row.written_off,
            ]
        )
    total = stats.year_total()
    flows.append(
        [
            _("total"),
            "",
            str(stats.year),
            total.established,
            total.recovered_principal,
            total.recovered_fee,
            total.recovered,
            total.written_off,
        ]
    )
    outstanding = book.create_sheet(_("outstanding and aging"))
    outstanding.append(
        [
            _("region code"),
            _("region"),
            _("open cases"),
            _("principal unpaid"),
            _("owed today"),
            *(str(label) for _key, label, _low, _high in OVERDUE_BUCKETS),
        ]
    )
    for region in stats.regions:
        outstanding.append(
            [
                region.region,
                region.label.removeprefix(region.region).strip(),
                region.cases_open,
                region.principal_unpaid,
                region.owed_today,
                *(region.aging[key]["owed"] for key, _label, _low, _high in OVERDUE_BUCKETS),
            ]
        )
    for sheet in (flows, outstanding):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.iter_cols(min_col=4 if sheet is flows else 3):
            for cell in column[1:]:
                cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
