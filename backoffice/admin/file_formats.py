"""The columns of the files clerks upload, with what each means (shared/docs/formats.md): the
upload pages list them, so a clerk can check a file before sending it."""

import csv
import io

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from replenish.models import PaymentChannel

ARREARS_COLUMNS = [
    ("unit_uscc", _("the unit's unified social credit code")),
    ("unit_name", _("the unit's name")),
    ("region_code", _("6-digit administrative division code")),
    ("period", _("contribution month, YYYY-MM, not in the future")),
    ("id_number", _("the insured person's citizen ID number")),
    ("person_name", _("the insured person's name")),
    ("base", _("contribution base, above 0")),
    ("employer_amount", _("unpaid employer (pooled fund) portion, 0 or more")),
    ("employee_amount", _("unpaid employee (personal account) portion, 0 or more")),
    ("due_date", _("when the month's contribution was due, YYYY-MM-DD")),
]

ARRIVAL_COLUMNS = [
    ("arrival_ref", _("the sender's unique reference of the arrival")),
    ("arrived_on", _("the date the money arrived, YYYY-MM-DD")),
    ("amount", _("amount arrived, in yuan")),
    ("payer_uscc", _("the payer's unified social credit code")),
    ("reference", _("the notice or agreement number the payer quoted (may be empty)")),
    ("channel", _("how it was paid, one of these codes:"), PaymentChannel.choices),
]


# One example row of each format, for the templates a clerk downloads.
EXAMPLES = {
    "arrears": [
        "91310101000000001J",
        "上海示例机械有限公司",
        "310101",
        "2026-01",
        "310101196001010019",
        "张三",
        "6000.00",
        "960.00",
        "480.00",
        "2026-02-15",
    ],
    "arrivals": ["BANK-20260305-0001", "2026-03-05", "1440.00", "91310101000000001J", "", "bank"],
}
FORMATS = {"arrears": ARREARS_COLUMNS, "arrivals": ARRIVAL_COLUMNS}


def template_file(kind: str, extension: str) -> tuple[bytes, str]:
    """(content, content type) of the template of a format: its header and one example row.
    CSV in UTF-8 with a byte-order mark (Excel then opens it right); XLSX with every column as
    text, so Excel keeps an ID number's 18 digits and a month as YYYY-MM."""
    header = [column[0] for column in FORMATS[kind]]
    example = EXAMPLES[kind]
    if extension == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([header, example])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    for row in (header, example):
        sheet.append(row)
    for column in sheet.columns:
        for cell in column:
            cell.number_format = "@"
        sheet.column_dimensions[column[0].column_letter].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX_TYPE


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
