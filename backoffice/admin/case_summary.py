"""The summary at the top of a case's page: what it owes today by the money rules, how old its
oldest unpaid month is, and what comes next (the notice's deadline or the next installment)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Min

from backoffice.admin.shown import yuan
from notices.models import CURRENT_NOTICE_STATES, Notice
from replenish.models import AgreementState, ArrearsCase, Installment
from replenish.owed_today import UNPAID, case_owed_summed


@dataclass(frozen=True)
class CaseSummary:
    principal: Decimal
    fee_fixed: Decimal
    fee_accrued: Decimal
    total: Decimal
    days_overdue: int | None
    oldest_due: date | None
    deadline: date | None
    notice_number: str | None
    installment: Installment | None
    # Days since the deadline or the installment's due date passed (None: not passed).
    days_past: int | None = None

    def __getattr__(self, name: str):
        # `<amount>_shown`: the amount as the page shows it (thousands separated).
        if name.endswith("_shown"):
            if name == "installment_amount_shown":
                return yuan(self.installment.amount) if self.installment else ""
            return yuan(getattr(self, name.removesuffix("_shown")))
        raise AttributeError(name)


def case_summary(case: ArrearsCase, *, today: date) -> CaseSummary:
    # Summed by the database: a case of 5,000 lines costs what a case of ten does.
    owed = case_owed_summed(case.pk, as_of=today)
    oldest = case.lines.filter(UNPAID).aggregate(oldest=Min("due_date"))["oldest"]
    notice = (
        Notice.objects.filter(case=case, state__in=CURRENT_NOTICE_STATES)
        .order_by("-issued_on", "-pk")
        .only("number", "deadline")
        .first()
    )
    installment = None
    agreement = case.agreements.filter(state=AgreementState.IN_FORCE).first()
    if agreement is not None:
        paid_since = case.paid_total - agreement.paid_before
        installment = (
            Installment.objects.filter(agreement=agreement, cumulative__gt=paid_since)
            .order_by("seq")
            .first()
        )
    due = installment.due_on if installment else (notice.deadline if notice else None)
    return CaseSummary(
        principal=owed.principal,
        fee_fixed=case.fee_unpaid,
        fee_accrued=owed.late_fee - case.fee_unpaid,
        total=owed.total,
        days_overdue=None if oldest is None else max(0, (today - oldest).days),
        oldest_due=oldest,
        deadline=notice.deadline if notice else None,
        notice_number=notice.number if notice else None,
        installment=installment,
        days_past=(today - due).days if due is not None and due < today else None,
    )
