"""A deterministic arrears file of any size for a realistic region (valid identifiers throughout).

    python -m bench.arrears_file --lines 1000000 --out var/bench/arrears-1m.csv

Each unit has two insured persons with ten unpaid months each (20 lines per unit); amounts vary
with the seed. The same arguments always give the same bytes.
"""

import argparse
import csv
import random
from datetime import date
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
LINES_PER_UNIT = 20
MONTHS = 10


def _month(year: int, month: int, back: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - back
    return index // 12, index % 12 + 1


def write_arrears_file(path: Path, *, lines: int, seed: int = 1, today: date | None = None) -> None:
    today = today or date(2026, 11, 1)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(lines):
            unit, within = divmod(i, LINES_PER_UNIT)
            person_no, month_back = divmod(within, MONTHS)
            region = REGIONS[unit % len(REGIONS)]
            # The identifiers once per unit and person, not per line (the same values).
            if within == 0 or i == 0:
                uscc = sample_uscc(
                    unit, region_code=region, kind=USCC_KINDS[unit % len(USCC_KINDS)]
                )
            if month_back == 0 or i == 0:
                id_number = sample_id_number(unit * 2 + person_no, region_code=region)
            year, month = _month(today.year, today.month, MONTHS + 1 - month_back)
            due_year, due_month = _month(year, month, -1)
            base = rng.randrange(3000, 30000)
            writer.writerow(
                (
                    uscc,
                    f"单位{unit:06d}有限公司",
                    region,
                    f"{year:04d}-{month:02d}",
                    id_number,
                    f"职工{unit * 2 + person_no:07d}",
                    f"{base}.00",
                    f"{base * 95 // 1000}.{base * 95 % 1000 // 10:02d}",
                    f"{base * 2 // 100}.{base * 2 % 100:02d}",
                    f"{due_year:04d}-{due_month:02d}-15",
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_arrears_file(args.out, lines=args.lines, seed=args.seed)


if __name__ == "__main__":
    main()
