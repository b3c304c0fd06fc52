"""A case of unit `unit_no` taken to overdue through the real services, and the people who
work its dossier."""

from datetime import date

from django.core.files.base import ContentFile

from notices.services import case_issue_notice
from operations.daily import daily_run
from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase
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


TRANSFER_CHAIN = (
    "opened",
    "demand_issued",
    "demand_served",
    "inquiry_sent",
    "inquiry_answered",
    "transfer_proposed",
    "transfer_requested",
    "transfer_granted",
    "transfer_notified",
)
GUARANTEE_CHAIN = (*TRANSFER_CHAIN[:5], "guarantee_required")
COURT_CHAIN = (*TRANSFER_CHAIN[:3], "court_proposed", "court_applied", "court_ruled")
DECISION_NO = "沪医保划〔2026〕9号"


def dossier_at(state: str, staff: Staff, *, unit_no: int = 1, balance: str = "5000.00"):
    """A dossier of an overdue case of unit `unit_no` walked by the real services to `state`
    (proposals by staff.clerk, approvals by staff.chief); `balance` is what the bank replies."""
    from enforcement import services as s

    chain = next(c for c in (TRANSFER_CHAIN, GUARANTEE_CHAIN, COURT_CHAIN) if state in c)
    if chain is GUARANTEE_CHAIN:
        balance = "1.00"  # short: a guarantee is required
    case = overdue_case(unit_no)
    clerk, chief = staff.clerk, staff.chief
    dossier = s.dossier_open(case_id=case.pk, actor=clerk, today=OPENED)
    steps = {
        "demand_issued": lambda: s.dossier_demand_issue(
            dossier_id=dossier.pk, actor=clerk, today=OPENED
        ),
        "demand_served": lambda: s.dossier_document_deliver(
            document_id=dossier.documents.get(kind="demand").pk,
            channel="post",
            delivered_on=SERVED,
            proof=receipt(),
            actor=clerk,
            today=SERVED,
        ),
        "inquiry_sent": lambda: s.dossier_inquiry_send(
            dossier_id=dossier.pk, banks=["中国银行"], actor=clerk, today=AFTER_DEMAND
        ),
        "inquiry_answered": lambda: s.dossier_inquiry_answer(
            dossier_id=dossier.pk,
            replies=[
                s.BankReply("中国银行", f"6217{unit_no:012d}", balance, AFTER_DEMAND, AFTER_DEMAND)
            ],
            actor=clerk,
            today=AFTER_DEMAND,
        ),
        "transfer_proposed": lambda: s.dossier_transfer_propose(
            dossier_id=dossier.pk, actor=clerk, today=AFTER_DEMAND
        ),
        "transfer_requested": lambda: s.dossier_transfer_approve(
            dossier_id=dossier.pk, actor=chief, today=AFTER_DEMAND
        ),
        "transfer_granted": lambda: s.dossier_transfer_grant(
            dossier_id=dossier.pk,
            decision_no=f"沪医保划〔2026〕{unit_no}号",
            decided_on=AFTER_DEMAND,
            actor=clerk,
            today=AFTER_DEMAND,
        ),
        "transfer_notified": lambda: s.dossier_transfer_notify(
            dossier_id=dossier.pk, actor=clerk, today=AFTER_DEMAND
        ),
        "guarantee_required": lambda: s.dossier_guarantee_require(
            dossier_id=dossier.pk, actor=clerk, today=AFTER_DEMAND
        ),
        "court_proposed": lambda: s.dossier_court_propose(
            dossier_id=dossier.pk, actor=clerk, today=COURT_OPENS
        ),
        "court_applied": lambda: s.dossier_court_approve(
            dossier_id=dossier.pk, court="上海市黄浦区人民法院", actor=chief, today=COURT_OPENS
        ),
        "court_ruled": lambda: s.dossier_court_rule(
            dossier_id=dossier.pk,
            court_case_no=f"(2026)沪0101执{unit_no}号",
            ruled_on=COURT_OPENS,
            ruling="查封、拍卖",
            actor=clerk,
            today=COURT_OPENS,
        ),
    }
    for name in chain[1 : chain.index(state) + 1]:
        steps[name]()
    dossier.refresh_from_db()
    assert dossier.state == state
    return dossier
