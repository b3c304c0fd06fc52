"""Every number the product hands out: cases, notices, agreements, write-off applications.

A number is a scope's next value (`number_block_take`, gap-free under a row lock) written in its
format; the formats and the patterns that recognise them (a payer quoting a number) live here, so
each is written out once.
"""

import re

from django.db import transaction

from replenish.models import NumberSequence

# Case AC<year>-<7 digits>, notice N<region>-<year>-<6 digits>, agreement A<region>-<year>-<6>.
NOTICE_NUMBER_PATTERN = re.compile(r"N\d{6}-\d{4}-\d+")
AGREEMENT_NUMBER_PATTERN = re.compile(r"A\d{6}-\d{4}-\d+")
CASE_SEQUENCE_DIGITS = 7


def number_block_take(*, scope: str, count: int = 1) -> int:
    """Take `count` consecutive numbers in `scope` and return the first.

    Runs in the caller's transaction under a row lock, so concurrent callers queue and a rollback
    returns the numbers: no number is used twice and none is skipped.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be taken inside the transaction that uses them")
    NumberSequence.objects.bulk_create([NumberSequence(scope=scope)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(scope=scope)
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return first


def case_scope(year: int) -> str:
    return f"case:{year}"


def case_number_prefix(year: int) -> str:
    """What every case number of `year` starts with; the import appends the zero-padded
    sequence in SQL (`CASE_SEQUENCE_DIGITS` digits)."""
    return f"AC{year}-"


def case_number(year: int, sequence: int) -> str:
    return f"{case_number_prefix(year)}{sequence:0{CASE_SEQUENCE_DIGITS}d}"


def notice_scope(region_code: str, year: int) -> str:
    return f"notice:{region_code}:{year}"


def notice_number(region_code: str, year: int, sequence: int) -> str:
    return f"N{region_code}-{year}-{sequence:06d}"


def agreement_scope(region_code: str, year: int) -> str:
    return f"agreement:{region_code}:{year}"


def agreement_number(region_code: str, year: int, sequence: int) -> str:
    return f"A{region_code}-{year}-{sequence:06d}"


def writeoff_number_take(year: int) -> str:
    """The next write-off application number of `year`: HX<year><6 digits>."""
    return f"HX{year}{number_block_take(scope=f'writeoff:{year}'):06d}"
