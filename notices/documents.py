"""Documents: a notice (and later an agreement, a claim statement) as a neutral structure of
titled sections, fields, paragraphs and tables, rendered as HTML or as a PDF.

A document is built from a snapshot only (plus, for a notice, its delivery record), and both
renderers are pure: the same snapshot always gives the same text, and the same PDF bytes
(reportlab's invariant mode). The PDF embeds a CJK TrueType font when one is installed and uses
the STSong-Light CID font otherwise, which every PDF reader has, so it displays on a machine
without Chinese fonts.
"""

import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# TrueType (not CFF/OpenType) CJK fonts from Debian's packages; reportlab embeds a subset.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
CID_FONT = "STSong-Light"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...] = ()
    numeric_from: int = 1  # columns from this one on are amounts, right-aligned


@dataclass(frozen=True)
class Section:
    heading: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Document:
    title: str
    number: str
    sections: tuple[Section, ...]
    footer: str = ""
    language: str = field(default="zh-hans", compare=False)

    def text(self) -> str:
        """The document as plain text: what both renderers show, in order."""
        out = [self.title, self.number]
        for section in self.sections:
            if section.heading:
                out.append(section.heading)
            out += [f"{label}: {value}" for label, value in section.fields]
            out += list(section.paragraphs)
            if section.table:
                out.append(" | ".join(section.table.header))
                out += [" | ".join(row) for row in section.table.rows]
                if section.table.footer:
                    out.append(" | ".join(section.table.footer))
        if self.footer:
            out.append(self.footer)
        return "\n".join(out)


# --- the notice -------------------------------------------------------------------------------


def _yuan(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _channel_label(code: str) -> str:
    return {
        "wechat": _("WeChat Pay (city service)"),
        "alipay": _("Alipay (city service)"),
        "etax": _("electronic tax bureau"),
        "bank": _("bank transfer"),
        "counter": _("service counter"),
    }.get(code, code)


def notice_document(notice, *, language: str | None = None) -> Document:
    """The replenishment notice from its snapshot and delivery record."""
    language = language or settings.LANGUAGE_CODE
    snap = notice.snapshot
    with translation.override(language):
        return _notice_document(snap, notice.delivered_on, notice.deadline, language)


def _notice_document(snap: dict, delivered_on, deadline, language: str) -> Document:
    unit = snap["unit"]
    rule = snap["late_fee_rule"]
    working_days = snap["deadline_rule"]["working_days"]
    if deadline:
        time_limit = _("%(deadline)s (%(days)s working days from delivery on %(delivered)s)") % {
            "deadline": deadline.isoformat(),
            "days": working_days,
            "delivered": delivered_on,
        }
    else:
        time_limit = _("within %(days)s working days from the day this notice is delivered") % {
            "days": working_days
        }
    rate = Decimal(rule["daily_rate"]) * 10000
    accrual = _(
        "The late fee above is computed to %(issued)s. From %(from)s it keeps accruing at "
        "%(rate)s per ten thousand a day on the unpaid premiums (currently %(daily)s yuan a day) "
        "until they are paid, and is settled with the payment."
    ) % {
        "issued": snap["issued_on"],
        "from": rule["from"],
        "rate": f"{rate.normalize():f}",
        "daily": _yuan(rule["daily_amount"]),
    }
    by_period = Table(
        header=(
            _("period"),
            _("employer portion (pooled fund)"),
            _("employee portion (personal account)"),
            _("late fee to the issue date"),
            _("total"),
        ),
        rows=tuple(
            (
                p["period"],
                _yuan(p["employer"]),
                _yuan(p["employee"]),
                _yuan(p["late_fee"]),
                _yuan(p["total"]),
            )
            for p in snap["by_period"]
        ),
        footer=(
            _("total"),
            _yuan(snap["employer"]),
            _yuan(snap["employee"]),
            _yuan(snap["late_fee"]),
            _yuan(snap["total"]),
        ),
    )
    lines = Table(
        header=(
            _("period"),
            _("insured person"),
            _("citizen ID number"),
            _("due date"),
            _("employer portion"),
            _("employee portion"),
            _("late fee"),
        ),
        rows=tuple(
            (
                line["period"],
                line["person"],
                line["id_number"],
                line["due_date"],
                _yuan(line["employer"]),
                _yuan(line["employee"]),
                _yuan(line["late_fee"]),
            )
            for line in snap["lines"]
        ),
        numeric_from=4,
    )
    agency = snap["agency"]
    contact = [(_("agency"), agency["name"]), (_("telephone"), agency["contact"])]
    if agency.get("address"):
        contact.append((_("address"), agency["address"]))
    return Document(
        title=_("Social insurance premium replenishment notice"),
        number=_("No. %(number)s") % {"number": snap["notice_no"]},
        language=language,
        sections=(
            Section(
                fields=(
                    (_("insured unit"), unit["name"]),
                    (_("Unified Social Credit Code"), unit["uscc"]),
                    (_("case number"), snap["case_no"]),
                    (_("issued on"), snap["issued_on"]),
                ),
                paragraphs=(
                    _(
                        "%(unit)s: your unit has not paid the social insurance premiums below in "
                        "full and on time. Under the legal basis below you are ordered to pay "
                        "them, with the late fee, within the time limit."
                    )
                    % {"unit": unit["name"]},
                ),
            ),
            Section(heading=_("Amounts by period and portion (yuan)"), table=by_period),
            Section(
                fields=(
                    (_("principal"), _yuan(snap["principal"])),
                    (
                        _("late fee to %(date)s") % {"date": snap["issued_on"]},
                        _yuan(snap["late_fee"]),
                    ),
                    (_("total to pay"), _yuan(snap["total"])),
                    (_("deadline"), time_limit),
                ),
                paragraphs=(accrual,),
            ),
            Section(
                heading=_("How to pay"),
                paragraphs=(
                    _("Pay through any of: %(channels)s.")
                    % {
                        "channels": _(", ").join(
                            _channel_label(c) for c in snap["payment_channels"]
                        )
                    },
                    _("Quote the notice number %(reference)s as the payment reference.")
                    % {"reference": snap["payment_reference"]},
                ),
            ),
            Section(heading=_("Legal basis"), paragraphs=(snap["legal_basis"],)),
            Section(heading=_("Arrears by insured person (ID numbers masked)"), table=lines),
            Section(heading=_("Contact"), fields=tuple(contact)),
        ),
        footer=_("%(agency)s, %(date)s") % {"agency": agency["name"], "date": snap["issued_on"]},
    )


# --- renderers --------------------------------------------------------------------------------


def html_render(document: Document) -> str:
    return render_to_string("notices/document.html", {"document": document})


@cache
def _font(choice: str) -> str:
    """Register the font for Chinese text and return its name (see PDF_CJK_FONT)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if choice != "cid":
        paths = CJK_FONT_CANDIDATES if choice == "auto" else (choice,)
        for path in paths:
            if not Path(path).is_file():
                continue
            name = f"CJK-{Path(path).stem}"
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
            except (TTFError, OSError) as exc:
                logger.warning("cannot embed %s (%s); trying the next font", path, exc)
                continue
            return name
        if choice != "auto":
            logger.warning("PDF_CJK_FONT %s is not usable: using the CID font", choice)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def pdf_font() -> str:
    return _font(settings.PDF_CJK_FONT)


def pdf_render(document: Document) -> bytes:
    """The document as an A4 PDF with its Chinese text in the CJK font."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=24, alignment=TA_CENTER)
    centre = ParagraphStyle("centre", parent=base, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", parent=base, fontSize=11, leading=18, spaceBefore=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=11)
    amount = ParagraphStyle("amount", parent=cell, alignment=TA_RIGHT)

    def para(text: str, style=base) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story = [para(document.title, title), para(document.number, centre), Spacer(1, 4 * mm)]
    width = A4[0] - 36 * mm
    for section in document.sections:
        if section.heading:
            story.append(para(section.heading, heading))
        if section.fields:
            rows = [[para(label, base), para(value, base)] for label, value in section.fields]
            fields = PdfTable(rows, colWidths=[45 * mm, width - 45 * mm])
            fields.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(fields)
        for text in section.paragraphs:
            story.append(para(text))
        if section.table:
            t = section.table
            data = [[para(h, cell) for h in t.header]]
            for row in (*t.rows, *((t.footer,) if t.footer else ())):
                data.append(
                    [para(v, amount if i >= t.numeric_from else cell) for i, v in enumerate(row)]
                )
            table = PdfTable(data, colWidths=[width / len(t.header)] * len(t.header), repeatRows=1)
            style: list[tuple[Any, ...]] = [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
            if t.footer:
                style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")))
            table.setStyle(TableStyle(style))
            story.append(table)
        story.append(Spacer(1, 3 * mm))
    if document.footer:
        story.append(para(document.footer, ParagraphStyle("f", parent=base, alignment=TA_RIGHT)))
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{document.title} {document.number}",
        author=settings.AGENCY_NAME,
        invariant=1,
        lang=document.language,
    ).build(story)
    return out.getvalue()
