"""The skeleton the arrears and the arrivals imports share (docs/formats.md).

Both read a file once: its digest first, then each row checked on its own as it streams into a
staging table (`RowReader`), then the rules across rows checked there in SQL (`staged_repeats`),
and rows compared with what was imported before as text (`comparable`).
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Any, Protocol

from django.core.exceptions import ValidationError
from django.db.backends.utils import CursorWrapper

from kernel.csvfiles import RowError, read_rows
from kernel.money import FEN


def file_digest(stream: IO[bytes]) -> str:
    """The SHA-256 of the file, read in chunks; the stream is rewound for the import."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def comparable(value: object) -> str:
    """Raw SQL gives dates and numbers back differently per database; compare them as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(Decimal(str(value)).quantize(FEN))


def memoized(validate: Callable[[str], Any]) -> Callable[[str], Any]:
    """`validate` remembering its answers; a ValidationError is remembered too. Identifiers
    repeat on many lines (a unit's every employee and month, a payer's every payment), so each
    distinct value is validated once."""
    answers: dict[str, object] = {}

    def check(value: str) -> Any:
        answer = answers.get(value)
        if answer is None:
            try:
                answer = validate(value)
            except ValidationError as exc:
                answer = exc
            answers[value] = answer
        if isinstance(answer, ValidationError):
            raise answer
        return answer

    return check


class Progress(Protocol):
    """Told how far an import is: its stage ("reading", "checking", "writing"), the rows read,
    and while reading the fraction of the file read (None when not known)."""

    def __call__(self, stage: str, rows: int, fraction: float | None) -> None: ...


def progress_by_bytes(file: IO[bytes], progress: Progress, *, every: int) -> Callable[[int], None]:
    """A row counter's hook that tells `progress` every `every` rows how much of `file` (a
    seekable binary file) has been read."""
    position = file.tell()
    size = file.seek(0, 2)
    file.seek(position)

    def read(rows: int) -> None:
        if rows % every == 0:
            try:
                fraction = min(1.0, file.tell() / size) if size else None
            except (OSError, ValueError):
                fraction = None
            progress("reading", rows, fraction)

    return read


class RowReader:
    """Validates each row on its own and yields it in staging-table order; counts the rows.

    A subclass names its `columns` and checks a row in `row`, appending to `self.errors` what is
    wrong and returning the staged tuple (None for a bad value); `rejected` says what a bad row
    stages (nothing, unless the rules across rows must still see it).
    """

    columns: Sequence[str] = ()
    # Told the number of rows read so far, every so many rows (`progress_by_bytes`).
    progress: Callable[[int], None] | None = None

    def __init__(self, *, today: date, errors: list[RowError]):
        self.today = today
        self.errors = errors
        self.rows = 0

    def __call__(self, stream: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        errors = self.errors
        progress = self.progress
        for line, values in read_rows(stream, self.columns, errors):
            self.rows += 1
            if progress is not None:
                progress(self.rows)
            n = len(errors)
            staged = self.row(line, values)
            if len(errors) == n:
                yield staged
            else:
                bad = self.rejected(staged)
                if bad is not None:
                    yield bad

    def row(self, line: int, values: list[str]) -> tuple[Any, ...]:
        raise NotImplementedError

    def rejected(self, staged: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """What a row found bad stages, given what `row` made of it (its bad values None)."""
        return None


def staged_repeats(
    cursor: CursorWrapper, table: str, keys: Sequence[str], *, where: str = ""
) -> list[tuple[int, int]]:
    """(line, first line) of every staged row whose `keys` an earlier row of the file has
    (`where`: an SQL condition on the rows that count)."""
    on = " AND ".join(f"f.{key} = s.{key}" for key in keys)
    columns = ", ".join(keys)
    cursor.execute(
        f"""
        SELECT s.lineno, f.first FROM {table} s
        JOIN (SELECT {columns}, MIN(lineno) AS first FROM {table} {where and f"WHERE {where}"}
              GROUP BY {columns} HAVING COUNT(*) > 1) f ON {on}
        WHERE s.lineno <> f.first
        """
    )
    return [(line, first) for line, first in cursor.fetchall()]
