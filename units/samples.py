"""Valid sample identifiers for the demo data, the benchmark's generator and the test factories.

Deterministic from a number, so the same seed always gives the same region.
"""

from datetime import date, timedelta

from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2

from units.identifiers import USCC_ALPHABET

# Registration authority + institution type: enterprises (91), public institutions (12),
# social organisations (51), rural collective economic organisations (N2).
USCC_KINDS = ("91", "12", "51", "N2")


def sample_uscc(n: int, *, region_code: str = "310101", kind: str = "91") -> str:
    """The n-th sample Unified Social Credit Code of a region (GB 32100-2015 check character)."""
    body = ""
    value = n
    for _position in range(9):
        value, digit = divmod(value, len(USCC_ALPHABET))
        body = USCC_ALPHABET[digit] + body
    first17 = f"{kind}{region_code}{body}"
    return first17 + stdnum_uscc.calc_check_digit(first17)


def sample_id_number(n: int, *, region_code: str = "310101") -> str:
    """The n-th sample citizen ID number (GB 11643-1999 check character); distinct for every n
    below 15,000,000 (a thousand sequence numbers per birth date)."""
    birth = date(1960, 1, 1) + timedelta(days=(n // 1000) % 15000)
    first17 = f"{region_code}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + mod_11_2.calc_check_digit(first17)
