"""Region names beside their codes. The table (`Region`) is seeded from the administrative
division codes python-stdnum maintains for checking citizen ID numbers (`stdnum/cn/loc.dat`, from
the Ministry of Civil Affairs' list as published on Wikipedia: every province and county-level code
with its name and the years it existed), the current codes only; staff keep it in the admin."""

import re
from collections.abc import Iterable, Iterator

from django.core.cache import cache
from stdnum import numdb

from units.models import Region

# A name in the source carries the years of its validity: "[1999-]青浦区", "[-2010]崇文区".
_YEARS = re.compile(r"^\[(\d*)-(\d*)\]")
CACHE_KEY = "units:region-names"
CACHE_SECONDS = 300


def _current(name: str) -> str | None:
    """The name as it is now, without its years ("[1983-1989]南头区办事处,[1990-]南山区" is
    南山区), or None when the code was abolished."""
    latest = name.split(",")[-1].strip()
    years = _YEARS.match(latest)
    if years is None:
        return latest or None
    return None if years.group(2) else latest[years.end() :]


GROUPINGS = (
    "市辖区",
    "县",
    "省直辖县级行政区划",
    "自治区直辖县级行政区划",
    "省直辖县级行政单位",
    "自治区直辖县级行政单位",
)


def division_codes() -> Iterator[tuple[str, str]]:
    """(code, name) of every current province, prefecture and county-level division of the
    source, with the names above it: "广东省深圳市南山区", "上海市徐汇区", "上海市"."""
    for _length, low, high, props, children in numdb.get("cn/loc").prefixes:
        province = _current(props.get("province", ""))
        if province is None or low != high:
            continue
        names = {
            county_low: _current(county_props.get("county", ""))
            for _l, county_low, county_high, county_props, _c in children
            if county_low == county_high
        }
        for rest, county in names.items():
            if county is None or county in GROUPINGS:
                continue  # abolished, or a grouping of the source rather than a division
            if rest == "0000":
                yield f"{low}{rest}", province
                continue
            city = names.get(f"{rest[:2]}00") if rest[2:] != "00" else None
            parts = [province, *([city] if city and city not in GROUPINGS else []), county]
            yield f"{low}{rest}", "".join(dict.fromkeys(parts))


def regions_seed() -> int:
    """Add the source's current divisions that the table lacks (names staff changed stay)."""
    known = set(Region.objects.values_list("code", flat=True))
    added = Region.objects.bulk_create(
        [Region(code=code, name=name) for code, name in division_codes() if code not in known],
        batch_size=1000,
    )
    cache.delete(CACHE_KEY)
    return len(added)


def region_names() -> dict[str, str]:
    """{code: name} of every region: one query, then from the cache for a few minutes (a name
    staff change in the admin is shown at once: saving clears the cache)."""
    names = cache.get(CACHE_KEY)
    if names is None:
        names = dict(Region.objects.values_list("code", "name"))
        cache.set(CACHE_KEY, names, CACHE_SECONDS)
    return names


def region_label(code: str, names: dict[str, str] | None = None) -> str:
    """ "310104 上海市徐汇区", or the code alone when the table does not know it."""
    name = (region_names() if names is None else names).get(code)
    return f"{code} {name}" if name else code


def region_labels(codes: Iterable[str]) -> list[tuple[str, str]]:
    names = region_names()
    return [(code, region_label(code, names)) for code in codes]


def names_changed() -> None:
    cache.delete(CACHE_KEY)
