from django.core.management.base import BaseCommand

from kernel.actors import System
from kernel.commands import add_date_option, date_or_today
from notices.services import notices_issue_bulk


class Command(BaseCommand):
    help = "Issue a replenishment notice for every case in state registered."

    def add_arguments(self, parser):
        add_date_option(parser, "the issue date of the notices")

    def handle(self, *args, date=None, **options):
        issued = notices_issue_bulk(issued_on=date_or_today(date), actor=System("issue_notices"))
        for notice in issued:
            self.stdout.write(f"{notice.case_no},{notice.notice_no},{notice.total}")
