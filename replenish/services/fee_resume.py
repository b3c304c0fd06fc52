"""The late fee resuming from a date in the past (issue 13, rule 2).

When an agreement is breached, the fee resumes from the day after the breached installment's due
date, on the principal unpaid *on each day*: money that reached a line during the grace days ends
a segment on its arrival date, as any partial payment does (docs/rules.md), and the fee of each
segment is fixed, rounded, as that payment would have fixed it had the fee been running
(`kernel.money.fee_fix_at_changes`). A line no money reached since then keeps accruing, unrounded,
from the resume date.

Set-based: a fixed number of statements for any number of cases (the lines, the principal
changes since the resume dates, one ledger posting, one update of the accrual dates).
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum

from kernel.actors import Actor
from kernel.money import LineFeeState, PrincipalChange, fee_fix_at_changes
from kernel.sql import models_update
from replenish.models import ArrearsLine, LedgerEntry, LedgerKind
from replenish.reasons import Reason
from replenish.selectors import late_fee_policy
from replenish.services.ledger import Posting, ledger_post

ZERO = Decimal("0.00")


def lines_fee_resume(
    resume_after: Mapping[int, date],
    *,
    on: date,
    actor: Actor,
    source: Mapping[int, str],
    reason: Reason | str,
) -> int:
    """Resume the fee of every line of these (locked) cases from the day after
    `resume_after[case_id]`, until the unit's bankruptcy stop if any; `on` is the date of the
    event (the entries' effective date). Returns the number of ledger entries posted."""
    if not resume_after:
        return 0
    policy = late_fee_policy()
    lines = list(
        ArrearsLine.objects.filter(case_id__in=list(resume_after))
        .order_by("pk")
        .values_list(
            "pk",
            "case_id",
            "employer_unpaid",
            "employee_unpaid",
            "fee_unpaid",
            "fee_fixed_total",
            "employer_amount",
            "employee_amount",
            "case__bankruptcy_fee_stop",
        )
    )
    # What changed each line's principal after the earliest resume date, by day; money that was
    # reversed never arrived, so neither its payment nor its reversal counts.
    changes: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    reversed_sources = LedgerEntry.objects.filter(
        case_id__in=list(resume_after), kind=LedgerKind.PAYMENT_REVERSED
    ).values("source")
    for line_id, case_id, effective_on, delta in (
        LedgerEntry.objects.filter(
            case_id__in=list(resume_after), effective_on__gt=min(resume_after.values())
        )
        .exclude(
            kind__in=[LedgerKind.PAYMENT_APPLIED, LedgerKind.PAYMENT_REVERSED],
            source__in=reversed_sources,
        )
        .values("line_id", "case_id", "effective_on")
        .annotate(delta=Sum(F("employer") + F("employee")))
        .order_by("line_id", "effective_on")
        .values_list("line_id", "case_id", "effective_on", "delta")
    ):
        if delta and effective_on > resume_after[case_id]:
            changes[line_id].append((effective_on, Decimal(str(delta)).quantize(ZERO)))

    postings: list[Posting] = []
    moved: list[ArrearsLine] = []
    for pk, case_id, employer, employee, fee, fixed, a_employer, a_employee, stop in lines:
        start = resume_after[case_id]
        principal = employer + employee
        before = principal - sum((delta for _on, delta in changes[pk]), ZERO)
        unpaid, steps = before, []
        for day, delta in changes[pk]:
            unpaid += delta
            steps.append(PrincipalChange(on=day, unpaid_after=unpaid))
        state = fee_fix_at_changes(
            LineFeeState(
                principal_unpaid=before,
                fee_unpaid=fee,
                fee_fixed_total=fixed,
                assessed_principal=a_employer + a_employee,
                accrues_after=start,
                stops_on=stop,
            ),
            steps,
            policy=policy,
        )
        amount = state.fee_fixed_total - fixed
        if amount:
            postings.append(
                Posting(
                    case_id=case_id,
                    line_id=pk,
                    kind=LedgerKind.LATE_FEE_FIXED,
                    effective_on=on,
                    source=source[case_id],
                    late_fee=amount,
                    reason=Reason(
                        "late_fee_resumed", why=reason, since=start, to=state.accrues_after
                    ),
                )
            )
        moved.append(ArrearsLine(pk=pk, fee_accrues_after=state.accrues_after, fee_stops_on=stop))
    ledger_post(postings, actor=actor)
    models_update(moved, ["fee_accrues_after", "fee_stops_on"])
    return len(postings)
