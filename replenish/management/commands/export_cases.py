from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kernel.commands import add_date_option, date_or_today
from replenish.services.export import cases_export


class Command(BaseCommand):
    help = "Export every case with its amounts as of a date (docs/formats.md)."

    def add_arguments(self, parser):
        add_date_option(parser, "the date the amounts are computed for")
        parser.add_argument("file", nargs="?", type=Path, help="output file (default stdout)")

    def handle(self, *args, date=None, file: Path | None = None, **options):
        as_of = date_or_today(date)
        if file is None:
            cases_export(out=self.stdout, as_of=as_of)
            return
        if file.parent and not file.parent.is_dir():
            raise CommandError(_("%(dir)s: no such directory") % {"dir": file.parent})
        tmp = file.with_name(f".{file.name}.partial")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            count = cases_export(out=out, as_of=as_of)
        tmp.replace(file)
        self.stderr.write(_("%(n)d cases written to %(file)s") % {"n": count, "file": file})
