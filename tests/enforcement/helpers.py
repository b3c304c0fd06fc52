"""A case of unit `unit_no` taken to overdue through the real services, and the people who
work its dossier."""

from datetime import date

from django.core.files.base import ContentFile

from notices.services import case_issue_notice
from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase
from replenish.services.daily import daily_run
from tests.factories import ArrearsRowFactory, case_of, deliver, department_user, import_rows
from units.samples import sample_uscc

ISSUED = date(2026, 3, 2)  # delivered the same day: deadline 2026-03-09 (5 working days)
OVERDUE_ON = date(2026, 3, 10)
OPENED = date(2026, 3, 11)
SERVED = date(2026, 3, 12)  # the demand's 10 working days end on 2026-03-26
AFTER_DEMAND = date(2026, 3, 27)
COURT_OPENS = date(2026, 9, 3)  # the notice was delivered on 03-02: 6 months for a lawsuit
COURT_CLOSES = date(2026, 12, 2)


def overdue_case(unit_no: int = 1, *, lines: int = 1) -> ArrearsCase:
    """1,000.00 a line (800.00 employer, 200.00 employee), due 2026-01-15, notice delivered on
    2026-03-02, overdue from 2026-03-10."""
    import_rows(
        [ArrearsRowFactory(unit_no=unit_no, person_no=10 * unit_no + n) for n in range(lines)]
    )
    case = case_of(sample_uscc(unit_no))
    notice = case_issue_notice(case_id=case.pk, actor=department_user(COLLECTION), issued_on=ISSUED)
    deliver(notice, ISSUED)
    daily_run(as_of=OVERDUE_ON)
    return ArrearsCase.objects.get(pk=case.pk)


class Staff:
    """Two collection users (a proposal needs a second one) and a finance user."""

    def __init__(self):
        self.clerk = department_user(COLLECTION, "clerk")
        self.chief = department_user(COLLECTION, "chief")
        self.cashier = department_user(FINANCE, "cashier")


def receipt() -> ContentFile:
    return ContentFile(b"%PDF-1.4\n% signed return receipt\n", name="songda.pdf")
