"""Every number format is written once (replenish.services.numbering) and its pattern recognises
exactly what the format writes."""

from replenish.services.numbering import (
    AGREEMENT_NUMBER_PATTERN,
    NOTICE_NUMBER_PATTERN,
    agreement_number,
    case_number,
    case_number_prefix,
    notice_number,
)


def test_the_formats():
    # given a region, a year and a sequence, when numbers are written, then each has its shape
    assert case_number(2026, 12) == "AC2026-0000012"
    assert case_number(2026, 12).startswith(case_number_prefix(2026))
    assert notice_number("310101", 2026, 7) == "N310101-2026-000007"
    assert agreement_number("310101", 2026, 7) == "A310101-2026-000007"


def test_the_patterns_recognise_their_own_numbers_only():
    notice, agreement = notice_number("310101", 2026, 7), agreement_number("310101", 2026, 7)
    assert NOTICE_NUMBER_PATTERN.fullmatch(notice)
    assert AGREEMENT_NUMBER_PATTERN.fullmatch(agreement)
    assert not NOTICE_NUMBER_PATTERN.fullmatch(agreement)
    assert not AGREEMENT_NUMBER_PATTERN.fullmatch(notice)
    assert not NOTICE_NUMBER_PATTERN.fullmatch(case_number(2026, 7))
