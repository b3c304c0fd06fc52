from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kernel.actors import System
from kernel.commands import report_rejection, terminal_progress
from kernel.csvfiles import FileRejected
from replenish.services.arrears_import import arrears_import


class Command(BaseCommand):
    help = "Import arrears lines from the core contribution system (docs/formats.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the arrears CSV file")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        # On a terminal the import says how far it is, on one line of standard error; in a
        # pipe or a log nothing but the result is written.
        progress = terminal_progress(self.stderr) if self.stderr.isatty() else None
        try:
            with file.open("rb") as stream:
                result = arrears_import(
                    file=stream,
                    file_name=file.name,
                    actor=System("import_arrears"),
                    progress=progress,
                )
        except FileRejected as rejected:
            if progress is not None:
                self.stderr.write("")
            report_rejection(self, rejected)
        if progress is not None:
            self.stderr.write("")
        self.stdout.write(
            _(
                "%(rows)d rows: %(created)d lines imported, %(skipped)d already imported, "
                "%(opened)d cases opened, %(units)d units created"
            )
            % {
                "rows": result.rows,
                "created": result.lines_created,
                "skipped": result.lines_skipped,
                "opened": result.cases_opened,
                "units": result.units_created,
            }
        )
