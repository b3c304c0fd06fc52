"""What the interchange commands share: the --date option, reporting a rejected file, and an
import's progress on a terminal."""

import argparse
from datetime import date

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils import timezone

from kernel.csvfiles import FileRejected
from kernel.file_import import Progress


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def add_date_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--date", type=iso_date, default=None, help=f"{what} (YYYY-MM-DD, default today)"
    )


def date_or_today(value: date | None) -> date:
    return value or timezone.localdate()


def report_rejection(command: BaseCommand, rejected: FileRejected) -> None:
    """Every bad row as `line N: column: reason` on standard error, then a non-zero exit."""
    for error in rejected.errors:
        command.stderr.write(str(error))
    raise CommandError(
        f"the file was rejected ({len(rejected.errors)} error(s)); nothing was written",
        returncode=1,
    )


STAGES = {"reading": "reading", "checking": "checking the rules across rows", "writing": "writing"}


def terminal_progress(stream: OutputWrapper) -> Progress:
    """A progress hook (`kernel.file_import.Progress`) that keeps one line of a terminal up to
    date: the stage, the rows read and, while reading, the share of the file."""

    def show(stage: str, rows: int, fraction: float | None) -> None:
        share = f" ({fraction:.0%})" if fraction is not None else ""
        stream.write(f"\r{STAGES.get(stage, stage)}: {rows:,} rows{share}\x1b[K", ending="")
        stream.flush()

    return show
