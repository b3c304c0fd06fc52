"""Replenishment notices: issuing one case at a time (`case_issue_notice`) or every registered
case at once (`notices_issue_bulk`, the `issue_notices` command), with the same snapshot and
numbering; their delivery (`notice_deliver`, and by e-mail, SMS or the portal inbox through
`notices.sending`), which starts the time limit; and the unit's acknowledgement.

Issuing writes the delivery messages as rows in the same transaction; they are sent after commit,
and the PDF is rendered only by the worker that e-mails it, never while issuing.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, System, actor_label, require_permission
from kernel.money import DEFAULT_RATE_TABLE, line_fee_due, round_fen
from kernel.sql import is_postgres, models_insert
from kernel.uploads import document_check, removed_on_failure, unguessable_name
from notices.bulk_sql import notices_insert_select
from notices.deadlines import add_working_days
from notices.documents import LEGAL_BASIS, appeal, payee
from notices.messages import Kind
from notices.models import CURRENT_NOTICE_STATES, DeliveryChannel, Notice, NoticeState
from notices.outbox import Outgoing, notifications_create, unit_channels
from notices.reminders import reminders_schedule
from replenish.models import ArrearsCase, ArrearsLine, CaseState
from replenish.reasons import Reason
from replenish.selectors import LINE_FEE_FIELDS, late_fee_policy, line_fee_state
from replenish.services.numbering import notice_number, notice_scope, number_block_take
from replenish.services.transitions import (
    declared_transition,
    transition_apply,
    transition_apply_bulk,
    transition_record_created,
)
from units.identifiers import mask_id_number

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class IssuedNotice:
    case_no: str
    notice_no: str
    total: Decimal


PAYMENT_CHANNELS = ["wechat", "alipay", "etax", "bank", "counter"]


def _daily_rate(on: date) -> Decimal:
    return next(p.daily_rate for p in reversed(DEFAULT_RATE_TABLE) if p.starts_on <= on)


def _snapshot(case: ArrearsCase, unit, lines: list[tuple], *, issued_on: date):
    """The notice's fixed content: amounts by line and by period and portion, with the late fee
    to the issue date rounded per line; how the fee keeps accruing; the deadline rule
    (it runs from delivery); how to pay and what to quote; the legal basis; the agency.

    Only plain strings, numbers and lists, so the same snapshot always renders the same text.
    """
    policy = late_fee_policy()
    rows = []
    periods: dict[str, list[Decimal]] = {}
    principal = fee = accruing = ZERO
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
        sums = periods.setdefault(period, [ZERO, ZERO, ZERO])
        sums[0] += employer_unpaid
        sums[1] += employee_unpaid
        sums[2] += line_fee
        principal += employer_unpaid + employee_unpaid
        fee += line_fee
        if state.stops_on is None or state.stops_on > issued_on:
            accruing += employer_unpaid + employee_unpaid
    rates = [
        {
            "from": None if p.starts_on == date.min else p.starts_on.isoformat(),
            "daily_rate": str(p.daily_rate),
        }
        for p in DEFAULT_RATE_TABLE
    ]
    daily_rate = _daily_rate(issued_on)
    by_period = [
        {
            "period": period,
            "employer": str(employer),
            "employee": str(employee),
            "late_fee": str(period_fee),
            "total": str(employer + employee + period_fee),
        }
        for period, (employer, employee, period_fee) in sorted(periods.items())
    ]
    return (
        {
            "case_no": case.case_no,
            "unit": {"uscc": unit.uscc, "name": unit.name, "region_code": unit.region_code},
            "issued_on": issued_on.isoformat(),
            # The time limit runs from delivery: the date is on the notice once it is delivered.
            "deadline": None,
            "deadline_rule": {
                "working_days": settings.NOTICE_DEADLINE_WORKING_DAYS,
                "from": "delivery",
            },
            "lines": rows,
            "by_period": by_period,
            "principal": str(principal),
            "employer": str(sum((p[0] for p in periods.values()), ZERO)),
            "employee": str(sum((p[1] for p in periods.values()), ZERO)),
            "late_fee": str(fee),
            "total": str(principal + fee),
            "late_fee_rule": {
                "rates": rates,
                "accrues": "daily on the unpaid principal until paid",
                "from": (issued_on + timedelta(days=1)).isoformat(),
                "daily_rate": str(daily_rate),
                "daily_amount": str(round_fen(accruing * daily_rate)),
                "cap_at_principal": policy.cap_at_principal,
            },
            "legal_basis": LEGAL_BASIS,
            "payment_channels": PAYMENT_CHANNELS,
            "payment_reference": None,  # the notice number, set when it is taken
            "agency": {
                "name": settings.AGENCY_NAME,
                "contact": settings.AGENCY_CONTACT,
                "address": settings.AGENCY_ADDRESS,
            },
            # The account to pay into and the appeal bodies are part of the legal text too.
            "payee": payee(),
            "appeal": appeal(),
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
            transition_apply(previous, "supersede", actor=actor, reason=Reason("notice_reissued"))
        snapshot, principal, fee = _snapshot(case, case.unit, lines, issued_on=issued_on)
        sequence = number_block_take(scope=notice_scope(case.region_code, issued_on.year))
        number = notice_number(case.region_code, issued_on.year, sequence)
        snapshot["notice_no"] = snapshot["payment_reference"] = number
        notice = Notice.objects.create(
            case=case,
            number=number,
            region_code=case.region_code,
            year=issued_on.year,
            sequence=sequence,
            issued_on=issued_on,
            principal=principal,
            late_fee=fee,
            total=principal + fee,
            snapshot=snapshot,
        )
        transition_apply(notice, "issue", actor=actor)
        transition_apply(
            case, "issue_notice", actor=actor, reason=Reason("notice_issued", notice=number)
        )
        notifications_create(delivery_messages([notice]), dispatch="each")
    return notice


def notices_issue_bulk(
    *,
    issued_on: date,
    actor: System,
    batch_size: int | None = None,
    set_based: bool | None = None,
) -> list[IssuedNotice]:
    """Issue a notice dated `issued_on` for every case in state `registered`.

    Each batch is one transaction with a fixed number of queries: the cases are locked in key
    order, numbers are taken as one block per region, notices and audit rows are inserted in bulk.
    Issuing again issues nothing new (the cases are `notified` by then).

    `set_based` (default: on PostgreSQL) builds the notices and their snapshots in one
    INSERT … SELECT (notices.bulk_sql), identical to the snapshots built here in Python.
    """
    batch_size = batch_size or settings.BULK_BATCH_SIZE
    if set_based is None:
        set_based = is_postgres()
    issue_batch = _batch_issue_set_based if set_based else _batch_issue_in_python
    issued: list[IssuedNotice] = []
    _, target = declared_transition(Notice, "issue")
    while True:
        with transaction.atomic():
            to_issue = (
                ArrearsCase.objects.select_for_update(of=("self",))
                .filter(state=CaseState.REGISTERED)
                .exclude(principal_unpaid=0, fee_unpaid=0)
                .order_by("pk")
            )
            cases, created = issue_batch(to_issue[:batch_size], issued_on=issued_on, state=target)
            if not cases:
                break
            transition_record_created(
                Notice.objects.filter(pk__in=[n.pk for n in created.values()]), "issue", actor=actor
            )
            transition_apply_bulk(
                ArrearsCase.objects.filter(pk__in=[c.pk for c in cases]),
                "issue_notice",
                actor=actor,
                reason=Reason("notices_issued_in_bulk"),
            )
            notifications_create(
                delivery_messages(created.values(), unit_ids={c.pk: c.unit_id for c in cases}),
                dispatch="sweep",
            )
            issued.extend(
                IssuedNotice(case.case_no, created[case.pk].number, created[case.pk].total)
                for case in cases
            )
    return sorted(issued, key=lambda n: n.case_no)


class CaseToIssue(NamedTuple):
    """What the set-based issue reads of a case."""

    pk: int
    unit_id: int
    region_code: str
    case_no: str
    unit__name: str
    unit__uscc: str


class NoticeIssued(NamedTuple):
    """A notice just issued in bulk, as its delivery messages and the report read it."""

    pk: int
    case_id: int
    number: str
    total: Decimal
    snapshot: dict[str, Any]


def _batch_issue_set_based(
    to_issue: QuerySet[ArrearsCase], *, issued_on: date, state: str
) -> tuple[Sequence[CaseToIssue], dict[int, NoticeIssued]]:
    """A batch's cases (locked) and their notices, built by the SQL (notices.bulk_sql): what is
    read here is six values of a case, not a model instance (building 2,500 cases with their
    units cost 0.3 s)."""
    cases = [CaseToIssue(*values) for values in to_issue.values_list(*CaseToIssue._fields)]
    if not cases:
        return cases, {}
    return cases, _notices_insert_set_based(cases, issued_on=issued_on, state=state)


def _batch_issue_in_python(
    to_issue: QuerySet[ArrearsCase], *, issued_on: date, state: str
) -> tuple[Sequence[ArrearsCase], dict[int, NoticeIssued]]:
    """A batch's cases (locked) and their notices, with the snapshots built here."""
    cases = list(to_issue.select_related("unit"))
    if not cases:
        return cases, {}
    return cases, _notices_insert(cases, issued_on=issued_on, state=state)


def _numbers(
    cases: Sequence[ArrearsCase | CaseToIssue], *, issued_on: date
) -> dict[int, tuple[str, int]]:
    """Number and sequence of each case's notice: one block per region, in case order."""
    by_region: dict[str, list[ArrearsCase | CaseToIssue]] = defaultdict(list)
    for case in cases:
        by_region[case.region_code].append(case)
    numbers = {}
    for region in sorted(by_region):
        region_cases = by_region[region]
        first = number_block_take(
            scope=notice_scope(region, issued_on.year), count=len(region_cases)
        )
        for offset, case in enumerate(region_cases):
            numbers[case.pk] = (
                notice_number(region, issued_on.year, first + offset),
                first + offset,
            )
    return numbers


def _created(
    cases: Sequence[ArrearsCase | CaseToIssue],
    snapshots: dict[int, dict[str, Any]],
    *,
    issued_on: date,
    state: str,
) -> dict[int, NoticeIssued]:
    """The notices just issued to `cases`, with the snapshots given (not decoded again)."""
    issuing = Notice.objects.filter(
        case_id__in=[c.pk for c in cases], state=state, issued_on=issued_on
    )
    return {
        case_id: NoticeIssued(pk, case_id, number, total, snapshots[case_id])
        for pk, case_id, number, total in issuing.values_list("pk", "case_id", "number", "total")
    }


def _notices_insert_set_based(
    cases: list[CaseToIssue], *, issued_on: date, state: str
) -> dict[int, NoticeIssued]:
    numbers = _numbers(cases, issued_on=issued_on)
    notices_insert_select(
        numbered=[(case.pk, *numbers[case.pk]) for case in cases],
        issued_on=issued_on,
        state=state,
        cap=late_fee_policy().cap_at_principal,
        legal_basis=LEGAL_BASIS,
        payment_channels=PAYMENT_CHANNELS,
    )
    # What the delivery messages read of the snapshot, as the snapshot has it.
    agency = {"name": settings.AGENCY_NAME, "contact": settings.AGENCY_CONTACT}
    partial = {
        case.pk: {
            "unit": {"name": case.unit__name, "uscc": case.unit__uscc},
            "case_no": case.case_no,
            "issued_on": issued_on.isoformat(),
            "deadline_rule": {"working_days": settings.NOTICE_DEADLINE_WORKING_DAYS},
            "agency": agency,
        }
        for case in cases
    }
    created = _created(cases, partial, issued_on=issued_on, state=state)
    for notice in created.values():
        notice.snapshot["total"] = str(notice.total)
    return created


def _notices_insert(
    cases: list[ArrearsCase], *, issued_on: date, state: str
) -> dict[int, NoticeIssued]:
    """The notices of `cases` with their snapshots built in Python (`_snapshot`)."""
    lines = _open_lines_by_case(c.pk for c in cases)
    numbers = _numbers(cases, issued_on=issued_on)
    notices = []
    snapshots = {}
    for case in cases:
        snapshot, principal, fee = _snapshot(case, case.unit, lines[case.pk], issued_on=issued_on)
        number, sequence = numbers[case.pk]
        snapshot["notice_no"] = snapshot["payment_reference"] = number
        snapshots[case.pk] = snapshot
        notices.append(
            Notice(
                case=case,
                number=number,
                region_code=case.region_code,
                year=issued_on.year,
                sequence=sequence,
                # Created directly in the `issue` transition's target; its audit rows are
                # recorded by the caller from the declared source.
                state=state,
                issued_on=issued_on,
                principal=principal,
                late_fee=fee,
                total=principal + fee,
                snapshot=snapshot,
            )
        )
    # COPY on PostgreSQL: an INSERT of a batch of 5.5 KB snapshots took three times as long
    # (docs/benchmarks.md).
    models_insert(notices)
    del notices
    # The snapshots are the ones just made, not decoded again.
    return _created(cases, snapshots, issued_on=issued_on, state=state)


# --- delivery ----------------------------------------------------------------------------------


def delivery_messages(
    notices: Iterable[Notice | NoticeIssued], *, unit_ids: dict[int, int] | None = None
) -> list[Outgoing]:
    """The messages that send an issued notice to its unit on the channels in
    `NOTICE_SEND_CHANNELS` it can be reached on (one query for the units' contacts)."""
    notices = list(notices)
    # Notices just issued in bulk come with their units (`unit_ids`); a notice row knows its own.
    unit_of = unit_ids or {n.case_id: n.case.unit_id for n in notices if isinstance(n, Notice)}
    channels = unit_channels(set(unit_of.values()), allowed=settings.NOTICE_SEND_CHANNELS)
    outgoing = []
    for notice in notices:
        unit_id = unit_of[notice.case_id]
        snap = notice.snapshot
        context = {
            "unit_name": snap["unit"]["name"],
            "unit_uscc": snap["unit"]["uscc"],
            "case_no": snap["case_no"],
            "notice_no": notice.number,
            "total": snap["total"],
            "issued_on": snap["issued_on"],
            "working_days": str(snap["deadline_rule"]["working_days"]),
            "agency_name": snap["agency"]["name"],
            "agency_contact": snap["agency"]["contact"],
        }
        for channel, address in channels[unit_id]:
            outgoing.append(
                Outgoing(
                    dedupe_key=f"notice:{notice.pk}:issued:{channel}",
                    kind=Kind.NOTICE_ISSUED,
                    channel=channel,
                    context=context,
                    unit_id=unit_id,
                    address=address,
                    case_id=notice.case_id,
                    notice_id=notice.pk,
                )
            )
    return outgoing


PROOF_TYPES = {".pdf", ".jpg", ".jpeg", ".png"}
PROOF_MAX_BYTES = 10 * 1024 * 1024


def notice_deliver(  # noqa: C901  (the checks of one delivery record, each a refusal of its own)
    *,
    notice_id: int,
    channel: str,
    delivered_on: date,
    actor: Actor,
    proof: File | None = None,
    note: str = "",
    today: date | None = None,
) -> Notice:
    """Staff record that a notice reached the unit: by post with the date on the return receipt
    and a scan of it as proof, or by another channel they can show. The time limit starts.

    `today` is the date the entry is checked against (default: today in the agency's zone)."""
    require_permission(actor, "notices.deliver_notice")
    today = today or timezone.localdate()
    errors = {}
    if channel not in DeliveryChannel.values:
        errors["channel"] = _("%(channel)s is not a delivery channel (one of %(all)s).") % {
            "channel": channel,
            "all": ", ".join(DeliveryChannel.values),
        }
    if not isinstance(delivered_on, date):
        errors["delivered_on"] = _("The delivery date is missing.")
    elif delivered_on > today:
        errors["delivered_on"] = _("%(date)s is in the future.") % {"date": delivered_on}
    if channel == DeliveryChannel.POST and not proof:
        errors["proof"] = _("Delivery by post needs the scanned return receipt as proof.")
    if proof:
        suffix = Path(proof.name or "").suffix.lower()
        if suffix not in PROOF_TYPES:
            errors["proof"] = _("The proof must be a PDF, JPEG or PNG file, not %(name)s.") % {
                "name": proof.name
            }
        else:
            try:
                document_check(proof, extensions=[t.lstrip(".") for t in PROOF_TYPES])
            except ValidationError as exc:
                errors["proof"] = exc.messages[0]
            else:
                # Stored under a name nobody can guess (the receipt names the unit).
                proof = File(proof, name=unguessable_name("r", proof.name or "").split("/", 1)[1])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), removed_on_failure() as stored:
        case_id = Notice.objects.values_list("case_id", flat=True).get(pk=notice_id)
        ArrearsCase.objects.select_for_update().get(pk=case_id)
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        if delivered_on < notice.issued_on:
            raise ValidationError(
                {
                    "delivered_on": _("%(date)s is before the notice was issued (%(issued)s).")
                    % {"date": delivered_on, "issued": notice.issued_on}
                }
            )
        notice_delivered(
            notice,
            channel=channel,
            delivered_on=delivered_on,
            actor=actor,
            reason=(
                Reason("notice_delivered_note", channel=channel, on=delivered_on, note=note)
                if note
                else Reason("notice_delivered", channel=channel, on=delivered_on)
            ),
            proof=proof,
            note=note,
        )
        if proof:
            stored.append(notice.delivery_proof)
    return notice


def notice_delivered(
    notice: Notice,
    *,
    channel: str,
    delivered_on: date,
    actor: Actor,
    reason: str | Reason,
    proof: File | None = None,
    note: str = "",
) -> None:
    """Record the delivery of a notice the caller has locked (with its case): the deadline is
    `NOTICE_DEADLINE_WORKING_DAYS` working days after the delivery date, on the holiday calendar,
    and the reminders of the notice are scheduled."""
    deadline = add_working_days(delivered_on, settings.NOTICE_DEADLINE_WORKING_DAYS)
    transition_apply(
        notice,
        "deliver",
        actor=actor,
        reason=reason,
        channel=channel,
        delivered_on=delivered_on,
        deadline=deadline,
        note=note[:200],
        proof=proof,
    )
    reminders_schedule(as_of=delivered_on, subject_ids=[notice.pk], subject="notice")


def notice_acknowledge(*, notice_id: int, actor: Actor, at=None) -> Notice:
    """The unit confirms it received the notice. A unit that acknowledges a notice not yet
    recorded as delivered has it: it is delivered (portal) that day first."""
    require_permission(actor, "notices.acknowledge_notice")
    at = at or timezone.now()
    with transaction.atomic():
        case_id = Notice.objects.values_list("case_id", flat=True).get(pk=notice_id)
        ArrearsCase.objects.select_for_update().get(pk=case_id)
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        if notice.state == NoticeState.ISSUED:
            notice_delivered(
                notice,
                channel=DeliveryChannel.PORTAL,
                delivered_on=timezone.localdate(at),
                actor=actor,
                reason=Reason("notice_acknowledged"),
            )
        transition_apply(notice, "acknowledge", actor=actor, at=at, by=actor_label(actor))
    return notice
