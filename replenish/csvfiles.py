"""Reading the interchange files of formats/README.md: UTF-8 CSV (a BOM accepted; GB18030 CSV and
XLSX workbooks from clerks' desks are read as the same rows), a header row,
every bad value reported as `line N: column: reason` with N counting the header as line 1.

A file is validated whole before anything is written: a file with any bad row is rejected whole.
"""

import codecs
import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

AMOUNT_RE = re.compile(r"\d{1,13}(\.\d{1,2})?")
PERIOD_RE = re.compile(r"(\d{4})-(\d{2})")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.reason}"

    def shown(self) -> str:
        """The error for a person, in the active language (the commands print `str`, the
        contract's `line N: column: reason`)."""
        return _("line %(line)d: %(column)s: %(reason)s") % {
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }


class FileRejected(Exception):
    """The file was refused whole; nothing was written."""

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class BadValue(ValueError):
    pass


XLSX_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a ZIP archive
# Columns of a month (YYYY-MM): a date Excel made of one is read back as its month.
MONTH_COLUMNS = frozenset({"period"})


@contextmanager
def text_stream(source: IO[bytes] | IO[str]) -> Iterator[IO[str]]:
    """A text view of an uploaded or opened file, whatever desk saved it: UTF-8 CSV (a
    byte-order mark dropped), GB18030 CSV (Excel on Chinese Windows saves GBK, a subset), or an
    XLSX workbook (its first sheet, read as the CSV it would be). One reader path: the rows,
    the checks and the `line N: column: reason` errors are the same for every format.

    The view is detached afterwards, so the caller's file stays open for a second pass.
    """
    if not isinstance(source.read(0), bytes):
        yield source
        return
    start = source.tell()
    head = source.read(len(XLSX_MAGIC))
    source.seek(start)
    if head == XLSX_MAGIC:
        with _xlsx_as_csv(source) as text:
            yield text
        return
    wrapper = io.TextIOWrapper(source, encoding=_encoding_of(source), newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()


def _encoding_of(source: IO[bytes]) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else GB18030 (read once, then rewound)."""
    start = source.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        source.seek(start)
    return "utf-8-sig"


def _cell_text(value, *, month: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%Y-%m") if month else value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f").removesuffix(".0")
    return str(value)


@contextmanager
def _xlsx_as_csv(source: IO[bytes]) -> Iterator[IO[str]]:
    """The first sheet of a workbook as CSV text (spooled to disk when large)."""
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRejected(
            [RowError(1, "header", _("not a readable XLSX workbook (%(error)s)") % {"error": exc})]
        ) from None
    with tempfile.SpooledTemporaryFile(
        max_size=16 << 20, mode="w+", newline="", encoding="utf-8"
    ) as text:
        writer = csv.writer(text, lineterminator="\n")
        months: list[bool] = []
        for values in book.worksheets[0].iter_rows(values_only=True):
            if not months:
                months = [str(v).strip() in MONTH_COLUMNS for v in values]
            writer.writerow(
                [
                    _cell_text(v, month=months[i] if i < len(months) else False)
                    for i, v in enumerate(values)
                ]
            )
        book.close()
        text.seek(0)
        yield text


def read_rows(
    stream: IO[str], columns: Sequence[str], errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, values) for each data row; header and shape problems go to `errors`.

    The required columns must come first and in order; optional columns may follow them.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        errors.append(RowError(1, "header", _("the file is empty")))
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        errors.append(
            RowError(
                1,
                "header",
                _("not a readable CSV file (UTF-8 or GB18030) or XLSX workbook (%(error)s)")
                % {"error": exc},
            )
        )
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if header[: len(columns)] != list(columns):
        errors.append(
            RowError(
                1,
                "header",
                _("expected columns %(expected)s; got %(got)s")
                % {"expected": ",".join(columns), "got": ",".join(header)},
            )
        )
        return
    rows = 0
    try:
        for values in reader:
            line = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            rows += 1
            if len(values) < len(columns):
                errors.append(
                    RowError(
                        line,
                        "row",
                        _("%(found)d values, %(expected)d expected")
                        % {"found": len(values), "expected": len(columns)},
                    )
                )
                continue
            yield line, [v.strip() for v in values[: len(columns)]]
    except (csv.Error, UnicodeDecodeError) as exc:
        errors.append(
            RowError(reader.line_num + 1, "row", _("unreadable (%(error)s)") % {"error": exc})
        )
    if rows == 0 and not errors:
        errors.append(RowError(2, "row", _("the file has no data rows")))


def parse_amount(value: str, *, allow_zero: bool) -> Decimal:
    if not AMOUNT_RE.fullmatch(value):
        if re.fullmatch(r"-?\d+(\.\d+)?", value) and value.startswith("-"):
            raise BadValue(_("must not be negative"))
        if re.fullmatch(r"\d+\.\d{3,}", value):
            raise BadValue(_("%(value)r has more than 2 decimals") % {"value": value})
        raise BadValue(
            _("%(value)r is not an amount (digits with at most 2 decimals)") % {"value": value}
        )
    amount = Decimal(value)
    if not allow_zero and amount == 0:
        raise BadValue(_("must be greater than 0"))
    return amount


def parse_date(value: str) -> date:
    if not DATE_RE.fullmatch(value):
        raise BadValue(_("%(value)r is not a date (YYYY-MM-DD)") % {"value": value})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(_("%(value)r is not a real date") % {"value": value}) from None


def parse_period(value: str) -> str:
    match = PERIOD_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise BadValue(_("%(value)r is not a period (YYYY-MM)") % {"value": value})
    return value


def parse_required(value: str) -> str:
    if not value:
        raise BadValue(_("must not be empty"))
    return value


def checked(
    errors: list[RowError], line: int, column: str, parser: Callable[[str], Any], value: str
) -> Any:
    """Parse one value, recording a failure as a row error and returning None."""
    try:
        return parser(value)
    except BadValue as exc:
        errors.append(RowError(line, column, str(exc)))
    except ValidationError as exc:
        errors.append(RowError(line, column, " ".join(str(m) for m in exc.messages)))
    return None
