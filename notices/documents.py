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
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

logger = logging.getLogger(__name__)

# TrueType (not CFF/OpenType) CJK fonts from Debian's packages; reportlab embeds a subset.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
CID_FONT = "STSong-Light"

# The legal basis as fixed in a notice's snapshot (Chinese, the legal text), and its English for
# a notice read in English.
LEGAL_BASIS = (
    "《中华人民共和国社会保险法》第八十六条：用人单位未按时足额缴纳社会保险费的，由社会保险费征收机构"
    "责令限期缴纳或者补足，并自欠缴之日起，按日加收万分之五的滞纳金。"
)
LEGAL_BASIS_ENGLISH = _lazy(
    "Social Insurance Law of the People's Republic of China, Art. 86: an employer that does not "
    "pay its social insurance premiums in full and on time is ordered by the collection agency "
    "to pay or make them up within a time limit, with a late fee of 0.05 per cent a day from "
    "the day they were due."
)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...] = ()
    numeric_from: int = 1  # columns from this one on are amounts, right-aligned
    # Columns whose cells never break across lines (ID numbers, dates, numbers): the PDF gives
    # them the width of their longest cell and lets only the other columns wrap. Amounts
    # (numeric columns) never break either.
    nowrap: tuple[int, ...] = ()

    def keeps_whole(self, column: int) -> bool:
        return column >= self.numeric_from or column in self.nowrap


@dataclass(frozen=True)
class Section:
    heading: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    # A form to fill in by hand (the delivery receipt): bordered label/value rows, tall enough
    # to sign in.
    form: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Document:
    title: str
    number: str
    sections: tuple[Section, ...]
    footer: str = ""
    language: str = field(default="zh-hans", compare=False)
    # The issuer's block at the end, right-aligned over the place of the seal: its name,
    # "(seal)", the date.
    seal: tuple[str, ...] = ()
    # Side-by-side signature blocks of the parties (an agreement), each a few lines.
    signatures: tuple[tuple[str, ...], ...] = ()

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
            out += [f"{label}: {value}" for label, value in section.form]
        if self.footer:
            out.append(self.footer)
        out += list(self.seal)
        for block in self.signatures:
            out += list(block)
        return "\n".join(out)


# --- the notice -------------------------------------------------------------------------------


def _yuan(amount) -> str:
    return f"{Decimal(amount):,.2f}"


def day_text(value) -> str:
    """A date as the document's language writes it: 2026年3月11日, or 2026-03-11 in English."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if (translation.get_language() or "").startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def _channel_label(code: str) -> str:
    return {
        "wechat": _("WeChat Pay (city service)"),
        "alipay": _("Alipay (city service)"),
        "etax": _("electronic tax bureau"),
        "bank": _("bank transfer"),
        "counter": _("service counter"),
    }.get(code, code)


def payee() -> dict:
    """The account units pay into by bank transfer, from the settings."""
    return {
        "name": settings.PAYEE_NAME,
        "bank": settings.PAYEE_BANK,
        "account": settings.PAYEE_ACCOUNT,
    }


def appeal() -> dict:
    """Where a unit may appeal a notice (from the settings)."""
    return {
        "reconsideration_body": settings.APPEAL_RECONSIDERATION_BODY,
        "reconsideration_days": 60,
        "court": settings.APPEAL_COURT,
        "lawsuit_months": 6,
    }


def agency() -> dict:
    return {
        "name": settings.AGENCY_NAME,
        "contact": settings.AGENCY_CONTACT,
        "address": settings.AGENCY_ADDRESS,
    }


def payee_fields(account: dict) -> tuple[tuple[str, str], ...]:
    return (
        (_("payee (account name)"), account["name"]),
        (_("bank of the account"), account["bank"]),
        (_("account number"), account["account"]),
    )


def agency_fields(issuer: dict) -> tuple[tuple[str, str], ...]:
    fields = [(_("agency"), issuer["name"])]
    if issuer.get("address"):
        fields.append((_("address"), issuer["address"]))
    fields.append((_("telephone"), issuer["contact"]))
    return tuple(fields)


def seal_block(name: str, on) -> tuple[str, ...]:
    return (name, _("(seal)"), day_text(on))


def notice_document(notice, *, language: str | None = None) -> Document:
    """The replenishment notice from its snapshot and delivery record."""
    language = language or settings.LANGUAGE_CODE
    snap = notice.snapshot
    with translation.override(language):
        return _notice_document(snap, notice.delivered_on, notice.deadline, language)


def notice_documents(
    notice, *, language: str | None = None, address: str = ""
) -> tuple[Document, Document]:
    """The notice and its delivery receipt (送达回证), which prints as the page after it."""
    return (
        notice_document(notice, language=language),
        delivery_receipt_document(notice, language=language, address=address),
    )


def notice_pdf_bytes(notice, *, language: str | None = None) -> bytes:
    return pdf_render(*notice_documents(notice, language=language))


def _notice_document(snap: dict, delivered_on, deadline, language: str) -> Document:
    unit = snap["unit"]
    rule = snap["late_fee_rule"]
    working_days = snap["deadline_rule"]["working_days"]
    if deadline:
        time_limit = _("%(deadline)s (%(days)s working days from delivery on %(delivered)s)") % {
            "deadline": day_text(deadline),
            "days": working_days,
            "delivered": day_text(delivered_on),
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
        nowrap=(0,),
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
        nowrap=(0, 2, 3),
    )
    # Notices issued before the account and the appeal bodies were part of the snapshot print
    # the current settings.
    issuer = snap["agency"]
    account = snap.get("payee") or payee()
    appeal_to = snap.get("appeal") or appeal()
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
                    _("By bank transfer, pay into this account:"),
                ),
            ),
            Section(fields=payee_fields(account)),
            Section(
                heading=_("Legal basis"),
                paragraphs=(
                    str(LEGAL_BASIS_ENGLISH)
                    if snap["legal_basis"] == LEGAL_BASIS
                    else snap["legal_basis"],
                ),
            ),
            Section(
                heading=_("Rights of appeal"),
                paragraphs=(
                    _(
                        "If your unit disagrees with this notice, it may apply to %(body)s for "
                        "administrative reconsideration within %(days)s days from the day it "
                        "receives this notice, or bring an administrative lawsuit before "
                        "%(court)s within %(months)s months from that day. Reconsideration or a "
                        "lawsuit does not suspend the payment (Administrative Reconsideration "
                        "Law Art. 20, 42; Administrative Procedure Law Art. 46, 56)."
                    )
                    % {
                        "body": appeal_to["reconsideration_body"],
                        "days": appeal_to["reconsideration_days"],
                        "court": appeal_to["court"],
                        "months": appeal_to["lawsuit_months"],
                    },
                ),
            ),
            Section(heading=_("Arrears by insured person (ID numbers masked)"), table=lines),
            Section(heading=_("Contact"), fields=agency_fields(issuer)),
        ),
        seal=seal_block(issuer["name"], snap["issued_on"]),
    )


def delivery_receipt_document(
    notice, *, language: str | None = None, address: str = ""
) -> Document:
    """The delivery receipt (送达回证) of a notice: the form the person who receives it signs
    and returns, the proof a court asks for (Administrative Procedure Law Art. 101, Civil
    Procedure Law Art. 87). What the agency knows is filled in; the rest is written by hand."""
    language = language or settings.LANGUAGE_CODE
    snap = notice.snapshot
    with translation.override(language):
        unit = snap["unit"]
        blank_date = _("year  month  day")
        delivered = day_text(notice.delivered_on) if notice.delivered_on else ""
        way = notice.get_delivery_channel_display() if notice.delivery_channel else ""
        return Document(
            title=_("Delivery receipt"),
            number=_("No. %(number)s") % {"number": snap["notice_no"]},
            language=language,
            sections=(
                Section(
                    form=(
                        (
                            _("document delivered"),
                            _("Social insurance premium replenishment notice %(number)s")
                            % {"number": snap["notice_no"]},
                        ),
                        (
                            _("addressee"),
                            _("%(name)s (Unified Social Credit Code %(uscc)s)")
                            % {"name": unit["name"], "uscc": unit["uscc"]},
                        ),
                        (_("address of delivery"), address),
                        (
                            _("manner of delivery"),
                            way or _("in person / by post / left at the address / electronically"),
                        ),
                        (_("signature or seal of the addressee"), ""),
                        (_("date received"), delivered or blank_date),
                        (_("received on the addressee's behalf by, and why"), ""),
                        (_("person delivering"), ""),
                        (_("remarks"), ""),
                    ),
                ),
                Section(
                    paragraphs=(
                        _(
                            "The addressee signs or seals this receipt, writes the date it "
                            "received the notice and returns it to the agency. If the addressee "
                            "refuses to sign, the person delivering writes the reason and the "
                            "date here, with a witness."
                        ),
                    )
                ),
            ),
            seal=seal_block(snap["agency"]["name"], snap["issued_on"]),
        )


# --- renderers --------------------------------------------------------------------------------


def html_render(*documents: Document, back_url: str = "", back_label: str = "") -> str:
    """The documents as one HTML page, each after a page break when printed; `back_url` adds a
    link back (the portal's reading page)."""
    return render_to_string(
        "notices/document.html",
        {
            "documents": documents,
            "document": documents[0],
            "back_url": back_url,
            "back_label": back_label,
        },
    )


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


def pdf_render(*documents: Document) -> bytes:
    """The documents as one A4 PDF, each starting on a new page, with the Chinese text in the
    CJK font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable, PageBreak, SimpleDocTemplate

    story: list[Flowable] = []
    for index, document in enumerate(documents):
        if index:
            story.append(PageBreak())
        story += _story(document, width=A4[0] - 36 * mm)
    first = documents[0]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{first.title} {first.number}",
        author=settings.AGENCY_NAME,
        invariant=1,
        lang=first.language,
    ).build(story)
    return out.getvalue()


def pdf_response(pdf: bytes, filename: str, *, attachment: bool = False):
    from django.http import HttpResponse

    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


CELL_FONT_SIZE = 8
CELL_PADDING = 4
MIN_WHOLE_COLUMN = 48  # points, about 17 mm


def _column_widths(table: Table, font: str, width: float) -> list[float]:
    """Columns that must stay whole get the width of their longest cell; the others share what
    is left (never less than a third of an equal share), so only they wrap."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    count = len(table.header)
    rows = (*table.rows, *((table.footer,) if table.footer else ()))
    natural = {}
    for column in range(count):
        if table.keeps_whole(column):
            longest = max((stringWidth(r[column], font, CELL_FONT_SIZE) for r in rows), default=0)
            # At least wide enough for a short header to wrap into two lines, not four.
            natural[column] = max(longest + 2 * CELL_PADDING + 1, MIN_WHOLE_COLUMN)
    wrapping = [c for c in range(count) if c not in natural]
    floor = width / count / 3
    left = width - sum(natural.values())
    if (wrapping and left / len(wrapping) < floor) or (not wrapping and left < 0):
        # Too wide for the page: share it out in proportion (cannot happen with A4 notices).
        total = sum(natural.values()) + floor * len(wrapping)
        return [(natural.get(c, floor)) * width / total for c in range(count)]
    if not wrapping:
        extra = left / count
        return [natural[c] + extra for c in range(count)]
    return [natural.get(c, left / len(wrapping)) for c in range(count)]


# One pass over the document's parts, each kind of part a branch (C901 allowed here).
def _story(document: Document, *, width: float) -> list:  # noqa: C901
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=24, alignment=TA_CENTER)
    centre = ParagraphStyle("centre", parent=base, alignment=TA_CENTER)
    heading = ParagraphStyle(
        "heading", parent=base, fontSize=11, leading=18, spaceBefore=6, keepWithNext=1
    )
    cell = ParagraphStyle("cell", parent=base, fontSize=CELL_FONT_SIZE, leading=11)
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)

    def para(text: str, style=base) -> Paragraph:
        # Ideographic spaces are room to write in (a date on a receipt): reportlab would
        # collapse them, so they become no-break spaces.
        text = text.replace("\u3000", "\u00a0" * 3)
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story = [para(document.title, title), para(document.number, centre), Spacer(1, 4 * mm)]
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
                # A cell that stays whole is a plain string: reportlab never breaks it.
                data.append([v if t.keeps_whole(i) else para(v, cell) for i, v in enumerate(row)])
            table = PdfTable(data, colWidths=_column_widths(t, font, width), repeatRows=1)
            style: list[tuple[Any, ...]] = [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONT", (0, 1), (-1, -1), font, CELL_FONT_SIZE),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                ("ALIGN", (t.numeric_from, 1), (-1, -1), "RIGHT"),
            ]
            if t.footer:
                style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")))
            table.setStyle(TableStyle(style))
            story.append(table)
        if section.form:
            rows = [[para(label, base), para(value, base)] for label, value in section.form]
            form = PdfTable(
                rows, colWidths=[55 * mm, width - 55 * mm], rowHeights=[18 * mm] * len(rows)
            )
            form.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story.append(form)
        story.append(Spacer(1, 3 * mm))
    if document.footer:
        story.append(para(document.footer, right))
    if document.signatures:
        blocks = [[para("\n".join(block), base)] for block in document.signatures]
        count = len(blocks)
        signatures = PdfTable([[cell[0] for cell in blocks]], colWidths=[width / count] * count)
        signatures.setStyle(
            TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 24)])
        )
        story.append(KeepTogether([Spacer(1, 8 * mm), signatures]))
    if document.seal:
        # Room above the name for the seal, which straddles the name and the date.
        story.append(
            KeepTogether([Spacer(1, 12 * mm), *(para(line, right) for line in document.seal)])
        )
    return story
