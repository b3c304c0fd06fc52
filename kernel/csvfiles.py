"""Reading the interchange files of docs/formats.md: UTF-8 CSV (a BOM accepted; GB18030 CSV and
XLSX workbooks from clerks' desks are read as the same rows), a header row, every bad value
reported as `line N: column: reason` with N counting the header as line 1.

A file is validated whole before anything is written: a file with any bad row is rejected whole.

The parsers of amounts and dates here are the only ones: the forms and the API use them too
(`kernel.inputs`), so a value one of them refuses is refused by all. Digits are ASCII only
(`\\d` would take full-width and other Unicode digits), an amount has at most 2 decimals and no
exponent, a date is `YYYY-MM-DD` and not before settings.EARLIEST_DATE.
"""

import codecs
import csv
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

if TYPE_CHECKING:
    from _csv import Reader

AMOUNT_RE = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")
PERIOD_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_VALUE_LENGTH = 200  # no column of any file holds more


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


class _Lines:
    """The lines of a binary file decoded one by one, so that a byte the encoding cannot read is
    reported on its own line (a decoder reading ahead in blocks names the wrong one); `line`
    is the number of the line read last."""

    def __init__(self, source: IO[bytes], encoding: str):
        self.source = source
        self.encoding = encoding
        self.line = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self.source.readline()
        if not raw:
            raise StopIteration
        self.line += 1
        if self.line == 1 and self.encoding == "utf-8":
            return raw.decode("utf-8-sig")
        return raw.decode(self.encoding)


@contextmanager
def text_stream(source: IO[bytes] | IO[str]) -> Iterator[IO[str] | _Lines]:
    """A text view of an uploaded or opened file, whatever desk saved it: UTF-8 CSV (a
    byte-order mark dropped), GB18030 CSV (Excel on Chinese Windows saves GBK, a subset), or an
    XLSX workbook (its first sheet, read as the CSV it would be). One reader path: the rows,
    the checks and the `line N: column: reason` errors are the same for every format.

    The caller's file stays open for a second pass.
    """
    if not isinstance(source.read(0), bytes):
        yield cast(IO[str], source)
        return
    # A file that reads bytes is a binary file (mypy cannot narrow `source` by what it reads).
    source = cast(IO[bytes], source)
    start = source.tell()
    head = source.read(len(XLSX_MAGIC))
    source.seek(start)
    if head == XLSX_MAGIC:
        with _xlsx_as_csv(source) as text:
            yield text
        return
    yield _Lines(source, _encoding_of(source))


def _encoding_of(source: IO[bytes]) -> str:
    """UTF-8 when the file decodes as UTF-8, GB18030 when it does not (read once, then rewound).

    A file whose text before its first bad byte already held UTF-8 characters is a UTF-8 file
    with a bad line, not a GB18030 file: it is read as UTF-8, so that the bad line is the one
    reported (read as GB18030, its good lines would turn into other characters)."""
    start = source.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_multibyte = False
    try:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return (
                    "utf-8" if seen_multibyte or _has_high_bytes(chunk[: exc.start]) else "gb18030"
                )
            seen_multibyte = seen_multibyte or _has_high_bytes(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "utf-8" if seen_multibyte else "gb18030"
    finally:
        source.seek(start)
    return "utf-8"


def _has_high_bytes(data: bytes) -> bool:
    """Whether the bytes hold a non-ASCII character (a byte-order mark does not count)."""
    return any(byte >= 0x80 for byte in data.removeprefix(codecs.BOM_UTF8))


def _cell_text(value: object, *, month: bool) -> str:
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


def _unreadable(stream: Iterable[str], reader: "Reader", exc: Exception) -> tuple[int, str]:
    if isinstance(exc, UnicodeDecodeError):
        line = getattr(stream, "line", reader.line_num + 1)
        byte = exc.object[exc.start]
        encoding = "GB18030" if getattr(stream, "encoding", "utf-8") == "gb18030" else "UTF-8"
        return line, _("not %(encoding)s (byte 0x%(byte)02x, the line's byte %(position)d)") % {
            "encoding": encoding,
            "byte": byte,
            "position": exc.start + 1,
        }
    return reader.line_num + 1, _("unreadable (%(error)s)") % {"error": exc}


def read_rows(  # noqa: C901  (a reader of one loop whose checks (shape, NUL, length, decoding) each report their own error)
    stream: Iterable[str], columns: Sequence[str], errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, values) for each data row; header and shape problems go to `errors`.

    The required columns must come first and in order; optional columns may follow them. A row
    with more values than the header, a NUL character or a value longer than any column holds
    is a bad row, named with its line and column.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        errors.append(RowError(1, "header", _("the file is empty")))
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        line, reason = _unreadable(stream, reader, exc)
        errors.append(
            RowError(
                line,
                "header",
                _("not a readable CSV file (UTF-8 or GB18030) or XLSX workbook: %(reason)s")
                % {"reason": reason},
            )
        )
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if header[: len(columns)] != list(columns):
        shown = ",".join(header).replace("\x00", "\\x00")[:500]
        errors.append(
            RowError(
                1,
                "header",
                _("expected columns %(expected)s; got %(got)s")
                % {"expected": ",".join(columns), "got": shown},
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
            if len(values) > len(header):
                errors.append(
                    RowError(
                        line,
                        "row",
                        _("%(found)d values, the header has %(columns)d columns")
                        % {"found": len(values), "columns": len(header)},
                    )
                )
                continue
            bad = False
            for name, value in zip(columns, values, strict=False):
                if "\x00" in value:
                    errors.append(RowError(line, name, _("contains a NUL character")))
                    bad = True
                elif len(value) > MAX_VALUE_LENGTH:
                    errors.append(
                        RowError(
                            line,
                            name,
                            _("longer than %(length)d characters") % {"length": MAX_VALUE_LENGTH},
                        )
                    )
                    bad = True
            if not bad:
                yield line, [v.strip() for v in values[: len(columns)]]
    except (csv.Error, UnicodeDecodeError) as exc:
        line, reason = _unreadable(stream, reader, exc)
        errors.append(RowError(line, "row", reason))
    if rows == 0 and not errors:
        errors.append(RowError(2, "row", _("the file has no data rows")))


def parse_amount(value: str, *, allow_zero: bool) -> Decimal:
    """An amount in yuan as the files write it: ASCII digits, at most 2 decimals, no sign, no
    exponent, at most 13 digits before the point."""
    if not AMOUNT_RE.fullmatch(value):
        if re.fullmatch(r"-[0-9]+(\.[0-9]+)?", value):
            raise BadValue(_("must not be negative"))
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", value):
            raise BadValue(_("%(value)r has more than 2 decimals") % {"value": value})
        if re.fullmatch(r"[0-9]{14,}(\.[0-9]{1,2})?", value):
            raise BadValue(
                _("%(value)r is too large (at most 13 digits before the point)") % {"value": value}
            )
        raise BadValue(
            _("%(value)r is not an amount (digits with at most 2 decimals)") % {"value": value}
        )
    amount = Decimal(value)
    if not allow_zero and amount == 0:
        raise BadValue(_("must be greater than 0"))
    return amount


def earliest_date() -> date:
    return settings.EARLIEST_DATE


def parse_iso_date(value: str) -> date:
    """A date written YYYY-MM-DD with ASCII digits (not `20261130`, not `2026-1-5`)."""
    if not DATE_RE.fullmatch(value):
        raise BadValue(_("%(value)r is not a date (YYYY-MM-DD)") % {"value": value})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(_("%(value)r is not a real date") % {"value": value}) from None


def parse_date(value: str) -> date:
    """A date of a file, a form or the API: YYYY-MM-DD, not before settings.EARLIEST_DATE."""
    parsed = parse_iso_date(value)
    if parsed < earliest_date():
        raise BadValue(
            _("%(value)s is before %(earliest)s, the earliest date accepted")
            % {"value": value, "earliest": earliest_date()}
        )
    return parsed


def parse_period(value: str) -> str:
    match = PERIOD_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise BadValue(_("%(value)r is not a period (YYYY-MM)") % {"value": value})
    if value < f"{earliest_date():%Y-%m}":
        raise BadValue(
            _("%(value)s is before %(earliest)s, the earliest period accepted")
            % {"value": value, "earliest": f"{earliest_date():%Y-%m}"}
        )
    return value


def parse_required(value: str, *, max_length: int | None = None) -> str:
    if not value:
        raise BadValue(_("must not be empty"))
    if max_length is not None and len(value) > max_length:
        raise BadValue(_("longer than %(length)d characters") % {"length": max_length})
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
