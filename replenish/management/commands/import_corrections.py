from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kernel.actors import Actor, System
from kernel.commands import report_rejection
from kernel.csvfiles import FileRejected
from replenish.services.corrections import corrections_import


class Command(BaseCommand):
    help = (
        "Record corrections of imported lines from a file (docs/formats.md); each takes "
        "effect when a second collection user approves it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the corrections CSV file")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="the collection user recording them (default: the system); a different "
            "collection user approves them",
        )

    def handle(self, *args, file: Path, by: str | None = None, **options):
        if not file.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        actor: Actor = System("import_corrections")
        if by:
            try:
                actor = get_user_model().objects.get(username=by)
            except get_user_model().DoesNotExist:
                raise CommandError(_("--by %(user)s: no such user") % {"user": by}) from None
        try:
            with file.open("rb") as stream:
                result = corrections_import(file=stream, file_name=file.name, actor=actor)
        except FileRejected as rejected:
            report_rejection(self, rejected)
        self.stdout.write(
            _(
                "%(rows)d row(s): %(n)d correction(s) recorded, waiting for a second collection "
                "user's approval"
            )
            % {"rows": result.rows, "n": len(result.corrections)}
        )
