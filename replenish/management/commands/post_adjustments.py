from django.core.management.base import BaseCommand

from kernel.actors import System
from kernel.commands import add_date_option, date_or_today
from replenish.services.adjustment import adjustments_post


class Command(BaseCommand):
    help = "Post the arrivals confirmed by finance to the cases' ledgers (idempotent)."

    def add_arguments(self, parser):
        add_date_option(parser, "post what arrived on or before this date")

    def handle(self, *args, date=None, **options):
        report = adjustments_post(actor=System("post_adjustments"), as_of=date_or_today(date))
        for line in report.lines():
            self.stdout.write(line)
