"""Identifiers used by the agency: validated on input, each with a clear error.

* Units (employers): the 18-character Unified Social Credit Code, USCC, 统一社会信用代码
  (GB 32100-2015, 法人和其他组织统一社会信用代码编码规则).
* Insured persons: the 18-character citizen ID number, 公民身份号码 (GB 11643-1999), which
  is also the social security number. It is personal data: use ``mask_id_number`` in lists
  and exports, and never put it in logs or in error messages (the messages below never
  contain the value).
* Regions: 6-digit administrative division codes (GB/T 2260).

The ``validate_*`` functions fit Django field validators: each takes one value and raises
``django.core.exceptions.ValidationError`` with a stable ``code``. They also return the
normalized value, so forms and services can store that.

Where python-stdnum is used, and where it is not
-------------------------------------------------
``stdnum.cn.uscc.validate`` checks length 18, that characters 1-8 are digits, that
characters 9-18 are in the code's character set, and the check character. Requiring
characters 1-2 to be digits is stricter than GB 32100-2015: there, character 1 (登记管理部门
代码, registration authority) and character 2 (机构类别代码, institution type) are "arabic
digits or capital letters", and the authority table assigns letters, e.g. A (military
establishment), N (agriculture: rural collective economic organisations, N1/N2/N3...),
Y (other). stdnum rejects every such code, so we check the structure ourselves and only use
stdnum's check-character calculation, which follows the standard (weights 3^(i-1) mod 31,
character set without I, O, Z, S, V).

``stdnum.cn.ric.validate`` checks length, digits, the ISO 7064 MOD 11-2 check character and
that characters 7-14 form a date, and then looks the address code up in a table of
divisions and rejects it when the division did not exist in the holder's birth year. That
lookup is stricter than GB 11643-1999, §5.2: the address code is the code of the county
where the holder's permanent household registration was *when the number was assigned*
(per GB/T 2260), not the place or time of birth, and numbers keep their code after the
division is renamed or abolished. Someone born in 1990 who got their number in Beijing's
Daxing district has address code 110115, which exists only since 2001; stdnum rejects the
number. Its table also misses codes. We therefore check only the address code's format and
use stdnum's ISO 7064 MOD 11-2 implementation for the check character (§5.5).
"""

from __future__ import annotations

import datetime
import functools

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as _stdnum_uscc
from stdnum.iso7064 import mod_11_2 as _mod_11_2

__all__ = [
    "ID_NUMBER_LENGTH",
    "ID_NUMBER_MIN_BIRTH_DATE",
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "birth_date_of",
    "mask_id_number",
    "normalize_id_number",
    "normalize_uscc",
    "sex_of",
    "validate_id_number",
    "validate_region_code",
    "validate_uscc",
]

USCC_LENGTH = 18
# GB 32100-2015: digits and capital letters, without I, O, Z, S, V (31 characters). The
# index of a character in this string is its value in the check-character calculation.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

ID_NUMBER_LENGTH = 18
# Our own rule, not the standard's: no insured person was born before 1900. (The example
# in GB 11643-1999 itself, 440524188001010014, has birth date 1880-01-01.)
ID_NUMBER_MIN_BIRTH_DATE = datetime.date(1900, 1, 1)

_DIGITS = "0123456789"
_ID_CHECK_CHARACTERS = _DIGITS + "X"

# Normalization: full-width ASCII forms (typed with a Chinese input method) become ASCII,
# invisible characters picked up by copy and paste are dropped, and only ASCII letters are
# upper-cased (str.upper() would turn "ß" into "SS" and change the length).
_NORMALIZE_TABLE = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    **{ord(c): ord(c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"},
    **{code: None for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)},
}


def _compact(value: object) -> str:
    if value is None:
        return ""
    text = str(value).translate(_NORMALIZE_TABLE)
    # str.split() without arguments splits on all Unicode whitespace, including the
    # ideographic space U+3000 and the no-break space U+00A0.
    return "".join(text.split())


def _shown(char: str) -> str:
    """A character as it may appear in an error message."""
    return char if char.isprintable() else f"U+{ord(char):04X}"


# --- Unified Social Credit Code (GB 32100-2015) ----------------------------------------

_USCC_CODE = "invalid_uscc"


def normalize_uscc(value: str) -> str:
    """Remove whitespace and upper-case; full-width characters become ASCII."""
    return _compact(value)


def validate_uscc(value: str) -> str:
    """Return the normalized USCC or raise ``ValidationError(code="invalid_uscc")``.

    Structure checked (GB 32100-2015), by character position:

    * 1 (registration authority) and 2 (institution type): any character of the set. The
      standard's table of these codes is maintained and extended by the code authority, so
      membership is not checked; a wrong code still has to pass the check character.
    * 3-8 (administrative division code of the registering authority): digits.
    * 9-17 (subject identifier, the GB 11714 organisation code): any character of the set.
      The GB 11714 check character inside it (character 17) is NOT verified:
      GB 32100-2015 defines only character 18 as the check character of the code and does
      not require the embedded organisation code's own check to hold; stdnum does not
      verify it either; and the codes were issued over decades by many offices, so a
      rejection on it would risk turning away real employers. Typing errors are caught by
      character 18, which covers all 17 characters.
    * 18 (check character): 31 - (sum of value x weight, weights 3^(i-1) mod 31) mod 31.
    """
    code = normalize_uscc(value)
    if len(code) != USCC_LENGTH:
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters; "
                "%(length)d characters were entered."
            ),
            code=_USCC_CODE,
            params={"length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in USCC_ALPHABET:
            raise ValidationError(
                _(
                    'Character %(position)d of the unified social credit code, "%(char)s", '
                    "is not allowed: the code uses only the digits 0-9 and the capital "
                    "letters A-Y except I, O, S and V."
                ),
                code=_USCC_CODE,
                params={"position": position, "char": _shown(char)},
            )
    for position in range(3, 9):
        char = code[position - 1]
        if char not in _DIGITS:
            raise ValidationError(
                _(
                    "Characters 3 to 8 of the unified social credit code are an "
                    "administrative division code and must be digits; character %(position)d "
                    'is "%(char)s".'
                ),
                code=_USCC_CODE,
                params={"position": position, "char": char},
            )
    # stdnum's calculation is the standard's (same weights and character values); only its
    # format checks are stricter than the standard, so they are not used.
    if code[17] != _stdnum_uscc.calc_check_digit(code[:17]):
        raise ValidationError(
            _(
                "The check character (the 18th) of the unified social credit code does not "
                "match the other characters; please check the code for typing errors."
            ),
            code=_USCC_CODE,
        )
    return code


# --- Citizen ID number (GB 11643-1999) ---------------------------------------------------

_ID_CODE = "invalid_id_number"
# China Standard Time, UTC+8 all year. Birth dates are dates in China; the server's clock
# may be in UTC, eight hours behind, which would make a newborn's date "the future".
_CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8), "CST")


def _today_in_china() -> datetime.date:
    return datetime.datetime.now(_CHINA_TZ).date()


def normalize_id_number(value: str) -> str:
    """Remove whitespace and upper-case (a final "x" becomes "X")."""
    return _compact(value)


def _birth_date_check(number: str, *, today: datetime.date | None) -> None:
    """Characters 7-14 are a real date of birth, from 1900-01-01 to `today`."""
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("Digits 7 to 14 of the ID number are not a valid date of birth (YYYYMMDD)."),
            code=_ID_CODE,
        ) from None
    if birth_date < ID_NUMBER_MIN_BIRTH_DATE:
        raise ValidationError(
            _("The date of birth in the ID number (digits 7 to 14) is before 1900."),
            code=_ID_CODE,
        )
    if birth_date > (today or _today_in_china()):
        raise ValidationError(
            _("The date of birth in the ID number (digits 7 to 14) is in the future."),
            code=_ID_CODE,
        )


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Return the normalized citizen ID number or raise ``ValidationError``.

    The error code is ``"invalid_id_number"``; messages never contain the number. Checks
    (GB 11643-1999 §5): characters 1-6, the address code, are six digits not starting with
    0 (format only, see the module docstring); 7-14 are a real date of birth YYYYMMDD, not
    before 1900-01-01 and not after ``today`` (default: the current date in China); 15-17 are the
    sequence code (digits); 18 is the ISO 7064 MOD 11-2 check character, 0-9 or X.
    """
    number = normalize_id_number(value)
    if len(number) != ID_NUMBER_LENGTH:
        if len(number) == 15:
            message = _(
                "This looks like an old 15-digit ID number; please enter the 18-character "
                "citizen ID number."
            )
        else:
            message = _(
                "A citizen ID number has 18 characters; %(length)d characters were entered."
            )
        raise ValidationError(message, code=_ID_CODE, params={"length": len(number)})
    for position, char in enumerate(number[:17], start=1):
        if char not in _DIGITS:
            raise ValidationError(
                _(
                    'Character %(position)d of the ID number, "%(char)s", is not allowed: '
                    "the first 17 characters are digits."
                ),
                code=_ID_CODE,
                params={"position": position, "char": _shown(char)},
            )
    if number[17] not in _ID_CHECK_CHARACTERS:
        raise ValidationError(
            _('The last character of the ID number must be a digit or X, not "%(char)s".'),
            code=_ID_CODE,
            params={"position": 18, "char": _shown(number[17])},
        )
    if number[0] == "0":
        raise ValidationError(
            _("The ID number cannot start with 0 (the first six digits are an address code)."),
            code=_ID_CODE,
            params={"position": 1, "char": "0"},
        )
    _birth_date_check(number, today=today)
    if number[17] != _mod_11_2.calc_check_digit(number[:17]):
        raise ValidationError(
            _(
                "The check character (the 18th) of the ID number does not match the other "
                "digits; please check the number for typing errors."
            ),
            code=_ID_CODE,
        )
    return number


def birth_date_of(id_number: str) -> datetime.date:
    """The date of birth in a citizen ID number (validated first)."""
    number = validate_id_number(id_number)
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_of(id_number: str) -> str:
    """ "M" or "F": the sequence code is odd for men, even for women (GB 11643-1999 §5.4)."""
    number = validate_id_number(id_number)
    return "M" if int(number[16]) % 2 else "F"


@functools.lru_cache(maxsize=4096)  # a notice masks each person once per line of theirs
def mask_id_number(value: str) -> str:
    """Mask an ID number for lists and exports: keep the first 6 and the last 4 characters.

    ``"110101199003071234"`` -> ``"110101********1234"`` (18 in, 18 out). The value is
    normalized first. Empty input gives ``""``. A 15-character (first-generation) number
    is masked the same way; a value of any other length, which is not an ID number and
    might be one mistyped, is masked completely.
    """
    number = normalize_id_number(value)
    if len(number) in (15, ID_NUMBER_LENGTH):
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * len(number)


# --- Administrative division codes (GB/T 2260) -------------------------------------------


def validate_region_code(value: str) -> str:
    """Return the 6-digit administrative division code or raise ``ValidationError``.

    Only the format is checked (exactly six ASCII digits, not 000000); membership in the
    current list is not, because codes are renamed and old ones stay in use in records.
    """
    code = _compact(value)
    if len(code) != 6 or any(c not in _DIGITS for c in code):
        raise ValidationError(
            _("An administrative division code is exactly 6 digits."),
            code="invalid_region_code",
        )
    if code == "000000":
        raise ValidationError(
            _("000000 is not an administrative division code."),
            code="invalid_region_code",
        )
    return code
