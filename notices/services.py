"""Issuing replenishment notices: one case at a time (`case_issue_notice`) or every registered
case at once (`notices_issue_bulk`, the `issue_notices` command), with the same snapshot and
numbering.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notices.deadlines import add_working_days
from notices.models import CURRENT_NOTICE_STATES, Notice
from replenish.actors import Actor, System, actor_label, actor_user
from replenish.models import ArrearsCase, ArrearsLine, AuditEntry, CaseState
from replenish.money import DEFAULT_RATE_TABLE, line_fee_due
from replenish.selectors import LINE_FEE_FIELDS, late_fee_policy, line_fee_state
from replenish.services.numbering import number_block_take
from replenish.services.transitions import (
    declared_transition,
    transition_apply,
    transition_apply_bulk,
)
from units.identifiers import mask_id_number

LEGAL_BASIS = (
    "《中华人民共和国社会保险法》第八十六条：用人单位未按时足额缴纳社会保险费的，由社会保险费征收机构"
    "责令限期缴纳或者补足，并自欠缴之日起，按日加收万分之五的滞纳金。"
)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class IssuedNotice:
    case_no: str
    notice_no: str
    total: Decimal


def notice_number(region_code: str, year: int, sequence: int) -> str:
    return f"N{region_code}-{year}-{sequence:06d}"


def _snapshot(case: ArrearsCase, unit, lines: list[tuple], *, issued_on: date, deadline: date):
    """The notice's fixed content: amounts by period and portion with the late fee to the issue
    date, rounded per line (DESIGN.md), and what the unit needs to pay."""
    policy = late_fee_policy()
    rows = []
    principal = fee = ZERO
    for person_name, id_number, period, due_date, *columns in lines:
        state = line_fee_state(*columns)
        line_fee = line_fee_due(state, as_of=issued_on, policy=policy)
        employer_unpaid, employee_unpaid = columns[0], columns[1]
        rows.append(
            {
                "period": period,
                "person": person_name,
                "id_number": mask_id_number(id_number),
                "due_date": due_date.isoformat(),
                "employer": str(employer_unpaid),
                "employee": str(employee_unpaid),
                "late_fee": str(line_fee),
            }
        )
        principal += employer_unpaid + employee_unpaid
        fee += line_fee
    rates = [
        {
            "from": None if p.starts_on == date.min else p.starts_on.isoformat(),
            "daily_rate": str(p.daily_rate),
        }
        for p in DEFAULT_RATE_TABLE
    ]
    return (
        {
            "case_no": case.case_no,
            "unit": {"uscc": unit.uscc, "name": unit.name, "region_code": unit.region_code},
            "issued_on": issued_on.isoformat(),
            "deadline": deadline.isoformat(),
            "lines": rows,
            "principal": str(principal),
            "late_fee": str(fee),
            "total": str(principal + fee),
            "late_fee_rule": {
                "rates": rates,
                "accrues": "daily on the unpaid principal until paid",
                "cap_at_principal": policy.cap_at_principal,
            },
            "legal_basis": LEGAL_BASIS,
            "payment_channels": ["wechat", "alipay", "etax", "bank", "counter"],
            "agency": {"name": settings.AGENCY_NAME, "contact": settings.AGENCY_CONTACT},
        },
        principal,
        fee,
    )


def _open_lines_by_case(case_ids: Iterable[int]) -> dict[int, list[tuple]]:
    rows = (
        ArrearsLine.objects.filter(case_id__in=list(case_ids))
        .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
        .order_by("case_id", "due_date", "period", "id")
        .values_list(
            "case_id", "person__name", "person__id_number", "period", "due_date", *LINE_FEE_FIELDS
        )
    )
    by_case: dict[int, list[tuple]] = defaultdict(list)
    for case_id, *rest in rows.iterator(chunk_size=5000):
        by_case[case_id].append(tuple(rest))
    return by_case


def case_issue_notice(*, case_id: int, actor: Actor, issued_on: date | None = None) -> Notice:
    """Issue a notice for one case (or reissue one for an overdue case, superseding the old one)."""
    issued_on = issued_on or timezone.localdate()
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().select_related("unit").get(pk=case_id)
        if case.state not in (CaseState.REGISTERED, CaseState.OVERDUE):
            raise ValidationError(
                _(
                    "Case %(case)s is %(state)s: a notice is issued only for a registered or "
                    "overdue case."
                )
                % {"case": case.case_no, "state": case.get_state_display()}
            )
        lines = _open_lines_by_case([case.pk]).get(case.pk, [])
        if not lines:
            raise ValidationError(_("Case %(case)s owes nothing.") % {"case": case.case_no})
        for previous in Notice.objects.select_for_update().filter(
            case=case, state__in=CURRENT_NOTICE_STATES
        ):
            transition_apply(previous, "supersede", actor=actor, reason="reissued")
        deadline = add_working_days(issued_on, settings.NOTICE_DEADLINE_WORKING_DAYS)
        snapshot, principal, fee = _snapshot(
            case, case.unit, lines, issued_on=issued_on, deadline=deadline
        )
        sequence = number_block_take(scope=f"notice:{case.region_code}:{issued_on.year}")
        number = notice_number(case.region_code, issued_on.year, sequence)
        snapshot["notice_no"] = number
        notice = Notice.objects.create(
            case=case,
            number=number,
            region_code=case.region_code,
            year=issued_on.year,
            sequence=sequence,
            issued_on=issued_on,
            deadline=deadline,
            principal=principal,
            late_fee=fee,
            total=principal + fee,
            snapshot=snapshot,
        )
        transition_apply(notice, "issue", actor=actor)
        transition_apply(case, "issue_notice", actor=actor, reason=f"notice {number}")
    return notice


def notices_issue_bulk(
    *, issued_on: date, actor: System, batch_size: int | None = None
) -> list[IssuedNotice]:
    """Issue a notice dated `issued_on` for every case in state `registered`.

    Each batch is one transaction with a fixed number of queries: the cases are locked in key
    order, numbers are taken as one block per region, notices and audit rows are inserted in bulk.
    Issuing again issues nothing new (the cases are `notified` by then).
    """
    batch_size = batch_size or settings.BULK_BATCH_SIZE
    issued: list[IssuedNotice] = []
    deadline = add_working_days(issued_on, settings.NOTICE_DEADLINE_WORKING_DAYS)
    sources, target = declared_transition(Notice, "issue")
    while True:
        with transaction.atomic():
            cases = list(
                ArrearsCase.objects.select_for_update(of=("self",))
                .filter(state=CaseState.REGISTERED)
                .exclude(principal_unpaid=0, fee_unpaid=0)
                .select_related("unit")
                .order_by("pk")[:batch_size]
            )
            if not cases:
                break
            lines = _open_lines_by_case(c.pk for c in cases)
            by_region: dict[str, list[ArrearsCase]] = defaultdict(list)
            for case in cases:
                by_region[case.region_code].append(case)
            notices = []
            for region in sorted(by_region):
                region_cases = by_region[region]
                first = number_block_take(
                    scope=f"notice:{region}:{issued_on.year}", count=len(region_cases)
                )
                for offset, case in enumerate(region_cases):
                    snapshot, principal, fee = _snapshot(
                        case, case.unit, lines[case.pk], issued_on=issued_on, deadline=deadline
                    )
                    number = notice_number(region, issued_on.year, first + offset)
                    snapshot["notice_no"] = number
                    notices.append(
                        Notice(
                            case=case,
                            number=number,
                            region_code=region,
                            year=issued_on.year,
                            sequence=first + offset,
                            # Created directly in the `issue` transition's target; the audit
                            # rows below record the draft → issued step for each.
                            state=target,
                            issued_on=issued_on,
                            deadline=deadline,
                            principal=principal,
                            late_fee=fee,
                            total=principal + fee,
                            snapshot=snapshot,
                        )
                    )
            Notice.objects.bulk_create(notices)
            # `state` is loaded too: ConcurrentTransitionMixin reads it on every instance, and a
            # deferred state would cost one query per notice.
            created = {
                n.case_id: n
                for n in Notice.objects.filter(
                    case_id__in=[c.pk for c in cases], state=target, issued_on=issued_on
                ).only("pk", "case_id", "number", "total", "state")
            }
            now = timezone.now()
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    case_id=notice.case_id,
                    subject="notice",
                    subject_id=notice.pk,
                    transition="issue",
                    from_state=next(iter(sources)),
                    to_state=target,
                    actor=actor_user(actor),
                    actor_label=actor_label(actor),
                    at=now,
                )
                for notice in created.values()
            )
            transition_apply_bulk(
                ArrearsCase.objects.filter(pk__in=[c.pk for c in cases]),
                "issue_notice",
                actor=actor,
                reason="bulk issue",
            )
            issued.extend(
                IssuedNotice(case.case_no, created[case.pk].number, created[case.pk].total)
                for case in cases
            )
    return sorted(issued, key=lambda n: n.case_no)
