"""A deterministic arrears file of any size for a realistic region (valid identifiers throughout).

    python -m bench.arrears_file --lines 500000 --wave 1 --out var/bench/arrears-w1.csv

The region's arrears span 24 months (periods 2024-10 to 2026-09, each due on the 15th of the next
month) and come in two files, *waves* of 12 months each: wave 1 the older year, wave 2 the newer
one. In each wave every unit has two insured persons with five unpaid months each (10 lines per
unit and wave, 20 in all); which five months varies by unit and person. The same persons (same ID
numbers) appear in both waves. Amounts vary with the seed and the wave. The same arguments always
give the same bytes.
"""

import argparse
import csv
import random
from pathlib import Path

from units.samples import USCC_KINDS, sample_id_number, sample_uscc

COLUMNS = (
    "unit_uscc",
    "unit_name",
    "region_code",
    "period",
    "id_number",
    "person_name",
    "base",
    "employer_amount",
    "employee_amount",
    "due_date",
)
REGIONS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112")
PERSONS_PER_UNIT = 2
MONTHS_PER_PERSON = 5  # per wave
LINES_PER_UNIT = PERSONS_PER_UNIT * MONTHS_PER_PERSON  # per wave
WAVE_MONTHS = 12
FIRST_PERIOD = (2024, 10)  # wave 1: 2024-10 .. 2025-09; wave 2: 2025-10 .. 2026-09


def _month(year: int, month: int, forward: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + forward
    return index // 12, index % 12 + 1


def unit_count(lines: int) -> int:
    """Units of a wave of `lines` lines (the same units in both waves)."""
    return lines // LINES_PER_UNIT


def write_arrears_file(path: Path, *, lines: int, seed: int = 1, wave: int = 1) -> None:
    """Wave `wave` (1 or 2) of the region: `lines` lines, 10 per unit."""
    if wave not in (1, 2):
        raise ValueError("wave is 1 or 2")
    rng = random.Random(f"{seed}:{wave}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(lines):
            unit, within = divmod(i, LINES_PER_UNIT)
            person_no, k = divmod(within, MONTHS_PER_PERSON)
            region = REGIONS[unit % len(REGIONS)]
            # The identifiers once per unit and person, not per line (the same values).
            if within == 0 or i == 0:
                uscc = sample_uscc(
                    unit, region_code=region, kind=USCC_KINDS[unit % len(USCC_KINDS)]
                )
            if k == 0 or i == 0:
                person = unit * PERSONS_PER_UNIT + person_no
                id_number = sample_id_number(person, region_code=region)
                # Five consecutive months of the wave's twelve, starting where the person's
                # arrears start (varies by unit and person).
                start = (unit * 7 + person_no * 5) % (WAVE_MONTHS - MONTHS_PER_PERSON + 1)
            year, month = _month(*FIRST_PERIOD, (wave - 1) * WAVE_MONTHS + start + k)
            due_year, due_month = _month(year, month, 1)
            base = rng.randrange(3000, 30000)
            writer.writerow(
                (
                    uscc,
                    f"单位{unit:06d}有限公司",
                    region,
                    f"{year:04d}-{month:02d}",
                    id_number,
                    f"职工{person:07d}",
                    f"{base}.00",
                    f"{base * 95 // 1000}.{base * 95 % 1000 // 10:02d}",
                    f"{base * 2 // 100}.{base * 2 % 100:02d}",
                    f"{due_year:04d}-{due_month:02d}-15",
                )
            )
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wave", type=int, default=1, choices=(1, 2))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_arrears_file(args.out, lines=args.lines, seed=args.seed, wave=args.wave)


if __name__ == "__main__":
    main()
