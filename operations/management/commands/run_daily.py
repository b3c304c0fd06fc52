from django.core.management.base import BaseCommand

from kernel.commands import add_date_option, date_or_today
from operations.daily import daily_run


class Command(BaseCommand):
    help = "Do for one date what the scheduler does every day (idempotent)."

    def add_arguments(self, parser):
        add_date_option(parser, "the date to run for")

    def handle(self, *args, date=None, **options):
        report = daily_run(as_of=date_or_today(date))
        for line in report.lines():
            self.stdout.write(line)
