from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kernel.actors import System
from kernel.commands import report_rejection
from kernel.csvfiles import FileRejected
from replenish.services.arrivals_import import arrivals_import


class Command(BaseCommand):
    help = "Import arrival information from finance or the tax bureau (docs/formats.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the arrivals CSV file")
        parser.add_argument(
            "--preview",
            action="store_true",
            help="say row by row what the import would do, and write nothing",
        )

    def handle(self, *args, file: Path, preview: bool = False, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        try:
            with file.open("rb") as stream:
                result = arrivals_import(
                    file=stream,
                    file_name=file.name,
                    actor=System("import_arrivals"),
                    preview=preview,
                )
        except FileRejected as rejected:
            report_rejection(self, rejected)
        for row in result.preview:
            self.stdout.write(str(row))
        self.stdout.write((_("preview, nothing written: ") if preview else "") + result.summary())
