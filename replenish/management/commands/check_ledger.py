from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from replenish.services.ledger import ledger_caches_rebuild, ledger_differences


class Command(BaseCommand):
    help = (
        "Recompute every case's and line's cached figures from the ledger and report differences."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", action="store_true", help="set the cached figures to what the ledger says"
        )

    def handle(self, *args, fix: bool = False, **options):
        differences = ledger_differences()
        for difference in differences:
            self.stdout.write(str(difference))
        if not differences:
            self.stdout.write(_("ledger and cached figures agree"))
            return
        if fix:
            with transaction.atomic():
                ledger_caches_rebuild()
            self.stdout.write(
                _("%(n)d difference(s) fixed from the ledger") % {"n": len(differences)}
            )
            return
        raise CommandError(_("%(n)d difference(s) found") % {"n": len(differences)}, returncode=1)
