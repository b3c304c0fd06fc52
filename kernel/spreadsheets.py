"""Spreadsheet files for people (the admin's CSV and Excel exports) never hold a formula, nor a
cell a spreadsheet would evaluate (OWASP "CSV injection"): a counterparty named
`=HYPERLINK("http://…","清算组")` is shown as that text, not run.

- CSV: a text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
  `'` (a plain number, such as an amount `-5.00`, is left as it is).
- Excel: text is written as a string cell, never a formula; numbers stay numbers.

`export_cases`, a machine interface, keeps its values exact and does not use this.
"""

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(TRIGGERS) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(row: Iterable[object]) -> list[str]:
    return [csv_cell(value) for value in row]


def xlsx_row(sheet: Any, row: Sequence[object]) -> list[WriteOnlyCell]:
    cells = []
    for value in row:
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "#,##0.00"  # amounts as numbers, with thousands separators
            cells.append(cell)
        elif isinstance(value, bool | int | float | date | datetime) or value is None:
            cells.append(WriteOnlyCell(sheet, value=value))
        else:
            cell = WriteOnlyCell(sheet, value=str(value))
            cell.data_type = "s"  # openpyxl would take a text beginning with = for a formula
            cells.append(cell)
    return cells
