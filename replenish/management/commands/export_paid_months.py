from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kernel.actors import System
from replenish.models import PaidMonthBatch
from replenish.services.records import HEADER, paid_months_batch_make, paid_months_csv


class Command(BaseCommand):
    help = (
        "Write the next batch of paid person-months for the core contribution system, or batch N "
        "again byte for byte (docs/formats.md, 'Paid person-months')."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, help="write this batch again instead")
        parser.add_argument("file", nargs="?", type=Path, help="output file (default stdout)")

    def handle(self, *args, batch: int | None = None, file: Path | None = None, **options):
        if file is not None and file.parent and not file.parent.is_dir():
            raise CommandError(_("%(dir)s: no such directory") % {"dir": file.parent})
        if batch is not None:
            if batch < 1 or not PaidMonthBatch.objects.filter(number=batch).exists():
                raise CommandError(_("batch %(n)d does not exist") % {"n": batch})
            number: int | None = batch
        else:
            made = paid_months_batch_make(actor=System("export_paid_months"))
            number = made.number if made else None
        lines = paid_months_csv(number) if number else iter([",".join(HEADER) + "\n"])
        if file is None:
            for line in lines:
                self.stdout.write(line, ending="")
        else:
            tmp = file.with_name(f".{file.name}.partial")
            with tmp.open("w", encoding="utf-8", newline="") as out:
                out.writelines(lines)
            tmp.replace(file)
        self.stderr.write(
            _("batch %(n)d") % {"n": number} if number else _("nothing changed: no batch made")
        )
