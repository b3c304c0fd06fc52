"""What the interchange commands share: the --date option and reporting a rejected file."""

import argparse
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kernel.csvfiles import FileRejected


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
