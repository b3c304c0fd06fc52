"""Tests for units.identifiers.

Valid codes are built here with check characters computed from the standards' own weight
tables (not with the implementation's or stdnum's functions).
"""

from __future__ import annotations

import datetime
import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from units.identifiers import (
    birth_date_of,
    mask_id_number,
    normalize_id_number,
    normalize_uscc,
    sex_of,
    validate_id_number,
    validate_region_code,
    validate_uscc,
)

# units.identifiers must be importable without settings (it is, above). Evaluating the lazy
# error messages needs settings, so configure minimal ones when run without pytest-django.
if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
    settings.configure(USE_I18N=False)


# --- independent check-character helpers, from the standards' text -----------------------

# GB 32100-2015: character set and weights W_i for positions 1..17; C18 = 31 - (sum mod 31),
# where a result of 31 means 0.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11643-1999 / ISO 7064 MOD 11-2: weights for positions 1..17; the check character is
# looked up by (sum mod 11) in "10X98765432".
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_TABLE = "10X98765432"


def uscc_with_check(body: str) -> str:
    assert len(body) == 17
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    value = 31 - total % 31
    return body + USCC_CHARSET[0 if value == 31 else value]


def id_with_check(body: str) -> str:
    assert len(body) == 17
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK_TABLE[total % 11]


def other_check(code: str, charset: str) -> str:
    """The code with a wrong check character from ``charset``."""
    wrong = next(c for c in charset if c != code[-1])
    return code[:-1] + wrong


def error_of(func, value, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value, **kwargs)
    return info.value


def message_of(error: ValidationError) -> str:
    with translation.override("en"):
        return str(error.messages[0])


# --- the helpers agree with published real-world examples --------------------------------


def test_helpers_reproduce_published_codes():
    # A real USCC (stdnum's documentation example) and GB 11643-1999's own examples.
    assert uscc_with_check("91110000600037341") == "91110000600037341L"
    assert id_with_check("11010519491231002") == "11010519491231002X"
    assert id_with_check("44052418800101001") == "440524188001010014"


# --- USCC ----------------------------------------------------------------------------------


def test_uscc_real_code_accepted():
    assert validate_uscc("91110000600037341L") == "91110000600037341L"


def test_uscc_normalizes_spaces_case_and_full_width():
    assert normalize_uscc(" 9111 0000 6000 3734 1l ") == "91110000600037341L"
    assert validate_uscc("91110000600037341l") == "91110000600037341L"
    assert validate_uscc("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"
    assert validate_uscc("91110000\u3000600037341L\u200b") == "91110000600037341L"


@pytest.mark.parametrize(
    "body",
    [
        "N2110105MA0000001",  # village-level rural collective economic organisation
        "N1320583MA1X2Y3Q4",  # group-level rural collective economic organisation
        "A1110000MA01ABCDE",  # letter registration authority A
        "Y1440300MA5D12345",  # Y: other registration authorities
        "5N110000500000000",  # a letter as institution type
    ],
)
def test_uscc_letters_in_positions_1_and_2_accepted_though_stdnum_rejects(body):
    code = uscc_with_check(body)
    # stdnum demands digits in positions 1-8, stricter than GB 32100-2015.
    assert not stdnum_uscc.is_valid(code)
    assert validate_uscc(code) == code


def test_uscc_embedded_organisation_code_check_not_enforced():
    # 60003734 + check 1 is a valid GB 11714 organisation code; with a wrong organisation
    # check digit (2), the USCC with its own correct check character is still accepted.
    code = uscc_with_check("91110000600037342")
    assert validate_uscc(code) == code


@pytest.mark.parametrize("value", ["", "9111000060003734", "91110000600037341L1", "1" * 30])
def test_uscc_wrong_length(value):
    error = error_of(validate_uscc, value)
    assert error.code == "invalid_uscc"
    assert error.params == {"length": len(value)}
    assert "18 characters" in message_of(error)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-", "统"])
@pytest.mark.parametrize("index", [0, 1, 9, 17])
def test_uscc_bad_character_reported_with_position(bad, index):
    code = uscc_with_check("91110000600037341")
    value = code[:index] + bad + code[index + 1 :]
    error = error_of(validate_uscc, value)
    assert error.code == "invalid_uscc"
    assert error.params == {"position": index + 1, "char": bad}
    message = message_of(error)
    assert f"Character {index + 1} " in message
    assert f'"{bad}"' in message


def test_uscc_letter_in_division_code_rejected():
    code = uscc_with_check("911A0000600037341")
    error = error_of(validate_uscc, code)
    assert error.code == "invalid_uscc"
    assert error.params == {"position": 4, "char": "A"}
    assert "administrative division code" in message_of(error)


def test_uscc_bad_check_character_does_not_reveal_expected_one():
    error = error_of(validate_uscc, "91110000600037341M")
    assert error.code == "invalid_uscc"
    message = message_of(error)
    assert "check character" in message
    assert "L" not in message  # the expected check character
    assert not error.params


def test_uscc_error_message_does_not_need_settings_at_import():
    # The messages are lazy: building the error does not translate anything.
    error = error_of(validate_uscc, "1")
    assert isinstance(error.message, Promise)


uscc_bodies = st.builds(
    lambda a, b, region, subject: a + b + region + subject,
    st.sampled_from(USCC_CHARSET),
    st.sampled_from(USCC_CHARSET),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@given(uscc_bodies)
def test_uscc_property_every_built_code_accepted(body):
    code = uscc_with_check(body)
    assert validate_uscc(code) == code
    assert validate_uscc(" " + code.lower() + " ") == code


@given(uscc_bodies, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_CHARSET))
def test_uscc_property_single_substitution_rejected(body, index, replacement):
    code = uscc_with_check(body)
    assume(code[index] != replacement)
    changed = code[:index] + replacement + code[index + 1 :]
    with pytest.raises(ValidationError):
        validate_uscc(changed)


@given(uscc_bodies, st.integers(min_value=0, max_value=16))
def test_uscc_property_adjacent_transposition_rejected(body, index):
    code = uscc_with_check(body)
    assume(code[index] != code[index + 1])
    swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
    with pytest.raises(ValidationError):
        validate_uscc(swapped)


# --- citizen ID number -----------------------------------------------------------------------

TODAY = datetime.date(2024, 6, 15)


def test_id_standard_example_accepted():
    assert validate_id_number("11010519491231002X") == "11010519491231002X"


def test_id_lowercase_x_and_spaces_normalized():
    assert normalize_id_number(" 110105 19491231 002x ") == "11010519491231002X"
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


def test_id_address_code_newer_than_birth_accepted_though_stdnum_rejects():
    # Daxing district, Beijing, has code 110115 since 2001; someone born there in 1990 was
    # given (or re-issued) a number with it. stdnum checks the code against the birth year.
    number = id_with_check("11011519900307123")
    assert not stdnum_ric.is_valid(number)
    assert validate_id_number(number) == number


def test_id_well_formed_address_code_missing_from_stdnum_table_accepted():
    number = id_with_check("99010119850101001")
    assert not stdnum_ric.is_valid(number)
    assert validate_id_number(number) == number


def test_id_standard_example_born_1880_rejected_by_our_1900_rule():
    error = error_of(validate_id_number, "440524188001010014")
    assert error.code == "invalid_id_number"
    assert "before 1900" in message_of(error)


@pytest.mark.parametrize(
    ("birth", "accepted"),
    [
        ("19000101", True),
        ("18991231", False),
        ("20000229", True),  # leap year
        ("19000229", False),  # 1900 is not a leap year
        ("20240615", True),  # born today
        ("20240616", False),  # tomorrow
        ("19900230", False),  # 30 February
        ("19901301", False),
        ("19900100", False),
        ("00000000", False),
    ],
)
def test_id_birth_dates(birth, accepted):
    number = id_with_check("110101" + birth + "123")
    if accepted:
        assert validate_id_number(number, today=TODAY) == number
    else:
        error = error_of(validate_id_number, number, today=TODAY)
        assert error.code == "invalid_id_number"
        assert "date of birth" in message_of(error)


def test_id_future_birth_date_against_real_today():
    # In the future in every time zone (China is UTC+8, the machine may be anywhere).
    future = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=2)
    number = id_with_check("110101" + future.strftime("%Y%m%d") + "123")
    error = error_of(validate_id_number, number)
    assert "in the future" in message_of(error)


def test_id_born_today_in_china_accepted_whatever_the_machine_time_zone():
    china_today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    number = id_with_check("110101" + china_today.strftime("%Y%m%d") + "124")
    assert validate_id_number(number) == number


def test_id_feb_30_message():
    error = error_of(validate_id_number, id_with_check("11010119900230123"))
    assert "not a valid date of birth" in message_of(error)


@pytest.mark.parametrize("value", ["", "11010519491231002", "11010519491231002X0"])
def test_id_wrong_length(value):
    error = error_of(validate_id_number, value)
    assert error.code == "invalid_id_number"
    assert "18 characters" in message_of(error)


def test_id_old_15_digit_number_gets_its_own_message():
    error = error_of(validate_id_number, "110105491231002")
    assert error.code == "invalid_id_number"
    assert "15-digit" in message_of(error)


@pytest.mark.parametrize(("index", "bad"), [(0, "A"), (7, "X"), (16, "O"), (10, "٣")])
def test_id_non_digit_in_first_17(index, bad):
    number = "11010519491231002X"
    value = number[:index] + bad + number[index + 1 :]
    error = error_of(validate_id_number, value)
    assert error.code == "invalid_id_number"
    assert error.params == {"position": index + 1, "char": bad}
    assert f"Character {index + 1} " in message_of(error)


def test_id_bad_last_character():
    error = error_of(validate_id_number, "11010519491231002Y")
    assert error.code == "invalid_id_number"
    assert "digit or X" in message_of(error)


def test_id_address_code_cannot_start_with_zero():
    error = error_of(validate_id_number, id_with_check("01010519491231002"))
    assert error.code == "invalid_id_number"
    assert "address code" in message_of(error)


def test_id_bad_check_character_message_does_not_leak_number_or_expected():
    value = "110105194912310021"
    error = error_of(validate_id_number, value)
    assert error.code == "invalid_id_number"
    message = message_of(error)
    assert "check character" in message
    assert "X" not in message
    assert "110105" not in message
    assert not error.params


def test_id_birth_date_and_sex():
    assert birth_date_of("11010519491231002X") == datetime.date(1949, 12, 31)
    assert sex_of("11010519491231002X") == "F"  # sequence 002: even
    assert sex_of(id_with_check("11010519491231001")) == "M"
    with pytest.raises(ValidationError):
        sex_of("123")


id_bodies = st.builds(
    lambda first, rest, born, sequence: first + rest + born.strftime("%Y%m%d") + sequence,
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)


@given(id_bodies)
def test_id_property_every_built_number_accepted(body):
    number = id_with_check(body)
    assert validate_id_number(number, today=TODAY) == number
    assert validate_id_number(number.lower(), today=TODAY) == number
    assert birth_date_of(number).strftime("%Y%m%d") == body[6:14]
    assert sex_of(number) == ("M" if int(body[16]) % 2 else "F")


@given(id_bodies, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_id_property_single_substitution_rejected(body, index, replacement):
    number = id_with_check(body)
    assume(number[index] != replacement)
    if index < 17:
        assume(replacement != "X")  # not an allowed character there; rejected anyway
    changed = number[:index] + replacement + number[index + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(changed, today=TODAY)


@given(id_bodies, st.integers(min_value=0, max_value=16))
def test_id_property_adjacent_transposition_rejected(body, index):
    number = id_with_check(body)
    assume(number[index] != number[index + 1])
    swapped = number[:index] + number[index + 1] + number[index] + number[index + 2 :]
    with pytest.raises(ValidationError):
        validate_id_number(swapped, today=TODAY)


# --- masking -------------------------------------------------------------------------------


def test_mask_keeps_first_6_and_last_4():
    assert mask_id_number("110101199003071234") == "110101********1234"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_mask_empty():
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


def test_mask_other_lengths_never_reveal():
    assert mask_id_number("110105491231002") == "110105*****1002"  # old 15-digit number
    assert mask_id_number("1101051949") == "**********"
    assert mask_id_number("110105194912310021234") == "*" * 21


@given(id_bodies)
def test_mask_property_hides_birth_date_and_keeps_length(body):
    number = id_with_check(body)
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked == number[:6] + "*" * 8 + number[14:]


# --- region codes --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["110101", "100000", "820000", " 440305 "])
def test_region_code_accepted(value):
    assert validate_region_code(value) == value.strip()


@pytest.mark.parametrize("value", ["", "000000", "11010", "1101011", "11010A", "١١٠١٠١", "11 01"])
def test_region_code_rejected(value):
    error = error_of(validate_region_code, value)
    assert error.code == "invalid_region_code"
    assert message_of(error)
