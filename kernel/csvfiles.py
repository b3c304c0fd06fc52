"""Reading the interchange files of docs/formats.md: UTF-8 CSV (a BOM accepted), a header row,
every bad value reported as `line N: column: reason` with N counting the header as line 1.

A file is validated whole before anything is written: a file with any bad row is rejected whole.

The parsers of amounts and dates here are the only ones: the forms and the API use them too
(`kernel.inputs`), so a value one of them refuses is refused by all. Digits are ASCII only
(`\\d` would take full-width and other Unicode digits), an amount has at most 2 decimals and no
exponent, a date is `YYYY-MM-DD` and not before settings.EARLIEST_DATE.
"""

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

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


class FileRejected(Exception):
    """The file was refused whole; nothing was written."""

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class BadValue(ValueError):
    pass


class _Lines:
    """The lines of a binary file decoded one by one, so that a byte that is not UTF-8 is
    reported on its own line (a decoder reading ahead in blocks names the wrong one); `line`
    is the number of the line read last."""

    def __init__(self, source: IO[bytes]):
        self.source = source
        self.line = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = self.source.readline()
        if not raw:
            raise StopIteration
        self.line += 1
        return raw.decode("utf-8-sig" if self.line == 1 else "utf-8")


@contextmanager
def text_stream(source: IO[bytes] | IO[str]) -> Iterator[IO[str] | _Lines]:
    """A text view of an uploaded or opened file; `utf-8-sig` drops a byte-order mark.

    The caller's file stays open for a second pass.
    """
    if not isinstance(source.read(0), bytes):
        yield source
        return
    yield _Lines(source)


def _unreadable(stream, reader, exc: Exception) -> tuple[int, str]:
    if isinstance(exc, UnicodeDecodeError):
        line = getattr(stream, "line", reader.line_num + 1)
        byte = exc.object[exc.start]
        return line, f"not UTF-8 (byte 0x{byte:02x}, the line's byte {exc.start + 1})"
    return reader.line_num + 1, f"unreadable ({exc})"


def read_rows(
    stream: IO[str], columns: Sequence[str], errors: list[RowError]
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
        errors.append(RowError(1, "header", "the file is empty"))
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        line, reason = _unreadable(stream, reader, exc)
        errors.append(RowError(line, "header", f"not a readable UTF-8 CSV file: {reason}"))
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if header[: len(columns)] != list(columns):
        shown = ",".join(header).replace("\x00", "\\x00")[:500]
        errors.append(RowError(1, "header", f"expected columns {','.join(columns)}; got {shown}"))
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
                    RowError(line, "row", f"{len(values)} values, {len(columns)} expected")
                )
                continue
            if len(values) > len(header):
                errors.append(
                    RowError(
                        line, "row", f"{len(values)} values, the header has {len(header)} columns"
                    )
                )
                continue
            bad = False
            for name, value in zip(columns, values, strict=False):
                if "\x00" in value:
                    errors.append(RowError(line, name, "contains a NUL character"))
                    bad = True
                elif len(value) > MAX_VALUE_LENGTH:
                    errors.append(
                        RowError(line, name, f"longer than {MAX_VALUE_LENGTH} characters")
                    )
                    bad = True
            if not bad:
                yield line, [v.strip() for v in values[: len(columns)]]
    except (csv.Error, UnicodeDecodeError) as exc:
        line, reason = _unreadable(stream, reader, exc)
        errors.append(RowError(line, "row", reason))
    if rows == 0 and not errors:
        errors.append(RowError(2, "row", "the file has no data rows"))


def parse_amount(value: str, *, allow_zero: bool) -> Decimal:
    """An amount in yuan as the files write it: ASCII digits, at most 2 decimals, no sign, no
    exponent, at most 13 digits before the point."""
    if not AMOUNT_RE.fullmatch(value):
        if re.fullmatch(r"-[0-9]+(\.[0-9]+)?", value):
            raise BadValue("must not be negative")
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", value):
            raise BadValue(f"{value!r} has more than 2 decimals")
        if re.fullmatch(r"[0-9]{14,}(\.[0-9]{1,2})?", value):
            raise BadValue(f"{value!r} is too large (at most 13 digits before the point)")
        raise BadValue(f"{value!r} is not an amount (digits with at most 2 decimals)")
    amount = Decimal(value)
    if not allow_zero and amount == 0:
        raise BadValue("must be greater than 0")
    return amount


def earliest_date() -> date:
    return settings.EARLIEST_DATE


def parse_iso_date(value: str) -> date:
    """A date written YYYY-MM-DD with ASCII digits (not `20261130`, not `2026-1-5`)."""
    if not DATE_RE.fullmatch(value):
        raise BadValue(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is not a real date") from None


def parse_date(value: str) -> date:
    """A date of a file, a form or the API: YYYY-MM-DD, not before settings.EARLIEST_DATE."""
    parsed = parse_iso_date(value)
    if parsed < earliest_date():
        raise BadValue(f"{value} is before {earliest_date()}, the earliest date accepted")
    return parsed


def parse_period(value: str) -> str:
    match = PERIOD_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise BadValue(f"{value!r} is not a period (YYYY-MM)")
    if value < f"{earliest_date():%Y-%m}":
        raise BadValue(f"{value} is before {earliest_date():%Y-%m}, the earliest period accepted")
    return value


def parse_required(value: str, *, max_length: int | None = None) -> str:
    if not value:
        raise BadValue("must not be empty")
    if max_length is not None and len(value) > max_length:
        raise BadValue(f"longer than {max_length} characters")
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
