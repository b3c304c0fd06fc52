"""The benchmark's arrears files: the same arguments give the same bytes; the two waves cover
24 months of the same units and persons, 10 lines per unit each, with valid identifiers."""

import csv

from bench.arrears_file import LINES_PER_UNIT, write_arrears_file
from units.identifiers import validate_id_number, validate_uscc


def rows(path):
    with path.open(encoding="utf-8") as data:
        return list(csv.DictReader(data))


def test_same_seed_same_bytes_and_two_waves_of_twelve_months(tmp_path):
    lines = 40 * LINES_PER_UNIT
    for wave in (1, 2):
        write_arrears_file(tmp_path / f"a{wave}.csv", lines=lines, seed=7, wave=wave)
    write_arrears_file(tmp_path / "again.csv", lines=lines, seed=7, wave=1)
    assert (tmp_path / "a1.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()

    one, two = rows(tmp_path / "a1.csv"), rows(tmp_path / "a2.csv")
    assert len(one) == len(two) == lines
    periods_one = {r["period"] for r in one}
    periods_two = {r["period"] for r in two}
    assert periods_one.isdisjoint(periods_two)
    assert min(periods_one) == "2024-10" and max(periods_two) == "2026-09"
    assert len(periods_one | periods_two) == 24
    assert {r["unit_uscc"] for r in one} == {r["unit_uscc"] for r in two}
    assert {r["id_number"] for r in one} == {r["id_number"] for r in two}
    assert len({(r["unit_uscc"], r["period"], r["id_number"]) for r in one + two}) == 2 * lines
    for r in one[:LINES_PER_UNIT] + two[-LINES_PER_UNIT:]:
        validate_uscc(r["unit_uscc"])
        validate_id_number(r["id_number"])
