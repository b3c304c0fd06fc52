"""Reading the interchange files of formats/README.md: UTF-8 CSV (a BOM accepted), a header row,
every bad value reported as `line N: column: reason` with N counting the header as line 1.

A file is validated whole before anything is written: a file with any bad row is rejected whole.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, cast

from django.core.exceptions import ValidationError

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


class FileRejected(Exception):
    """The file was refused whole; nothing was written."""

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class BadValue(ValueError):
    pass


@contextmanager
def text_stream(source: IO[bytes] | IO[str]) -> Iterator[IO[str]]:
    """A text view of an uploaded or opened file; `utf-8-sig` drops a byte-order mark.

    The view is detached afterwards, so the caller's file stays open for a second pass.
    """
    if not isinstance(source.read(0), bytes):
        yield cast(IO[str], source)
        return
    wrapper = io.TextIOWrapper(cast(IO[bytes], source), encoding="utf-8-sig", newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()


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
        errors.append(RowError(1, "header", "the file is empty"))
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        errors.append(RowError(1, "header", f"not a readable UTF-8 CSV file ({exc})"))
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if header[: len(columns)] != list(columns):
        errors.append(
            RowError(1, "header", f"expected columns {','.join(columns)}; got {','.join(header)}")
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
                    RowError(line, "row", f"{len(values)} values, {len(columns)} expected")
                )
                continue
            yield line, [v.strip() for v in values[: len(columns)]]
    except (csv.Error, UnicodeDecodeError) as exc:
        errors.append(RowError(reader.line_num + 1, "row", f"unreadable ({exc})"))
    if rows == 0 and not errors:
        errors.append(RowError(2, "row", "the file has no data rows"))


def parse_amount(value: str, *, allow_zero: bool) -> Decimal:
    if not AMOUNT_RE.fullmatch(value):
        if re.fullmatch(r"-?\d+(\.\d+)?", value) and value.startswith("-"):
            raise BadValue("must not be negative")
        if re.fullmatch(r"\d+\.\d{3,}", value):
            raise BadValue(f"{value!r} has more than 2 decimals")
        raise BadValue(f"{value!r} is not an amount (digits with at most 2 decimals)")
    amount = Decimal(value)
    if not allow_zero and amount == 0:
        raise BadValue("must be greater than 0")
    return amount


def parse_date(value: str) -> date:
    if not DATE_RE.fullmatch(value):
        raise BadValue(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is not a real date") from None


def parse_period(value: str) -> str:
    match = PERIOD_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise BadValue(f"{value!r} is not a period (YYYY-MM)")
    return value


def parse_required(value: str) -> str:
    if not value:
        raise BadValue("must not be empty")
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
