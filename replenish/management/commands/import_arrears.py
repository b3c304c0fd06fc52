from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError(f"{file}: no such file")
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
            f"{result.rows} rows: {result.lines_created} lines imported, "
            f"{result.lines_skipped} already imported, {result.cases_opened} cases opened, "
            f"{result.units_created} units created"
        )
