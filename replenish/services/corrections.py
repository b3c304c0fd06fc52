"""Corrections of wrongly imported lines (issue 13, rule 4; 更正).

A collection user records the right employer and employee portions of a line (`correction_record`,
or many at once from a file: `corrections_import`), with a reason and a document reference; it
takes effect when a *second* collection user approves it (`correction_approve`; the recorder is
refused), or is rejected (`correction_reject`). Taking effect posts `corrected` ledger entries:

- the principal moves to the corrected portions (a correction to 0 and 0 cancels the line);
- the late fee is recomputed as for a debt wrong from the start: on the corrected principal from
  the due date, fixed at the same dates as before (each payment that reached the line, each fix of
  an agreement, a breach), with the same stops (agreements in force, bankruptcy); the fee already
  fixed is corrected by the difference, in the same `corrected` entry;
- money already applied stays applied; what was paid beyond the corrected debt (a portion or the
  fee paid beyond its corrected amount) becomes the unit's credit (`payment_reversed` entries of
  the correction and credit entries of the arrivals that paid it, newest first).

A case that was settled and owes again reopens `overdue`; an open case that owes nothing any more
is settled. Refused, saying what to do instead: a line of a case under an agreement in force (its
total fixed the amounts), under write-off examination, written off, or split among successors.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from kernel.actors import Actor, actor_label, actor_user, require_permission
from kernel.csvfiles import (
    FileRejected,
    RowError,
    checked,
    parse_amount,
    parse_period,
    parse_required,
    read_rows,
    text_stream,
)
from kernel.money import Freeze, late_fee_breakdown, round_fen
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    CaseState,
    CorrectionState,
    CreditEntry,
    CreditKind,
    LedgerEntry,
    LedgerKind,
    LineCorrection,
)
from replenish.reasons import Reason, reason_fields
from replenish.selectors import late_fee_policy
from replenish.services.ledger import Posting, ledger_post
from replenish.services.transitions import audit_record, transition_apply
from units.identifiers import validate_id_number, validate_uscc

ZERO = Decimal("0.00")
COLUMNS = ("unit_uscc", "period", "id_number", "employer_amount", "employee_amount", "reason")


def correction_source(correction_id: int) -> str:
    return f"correction:{correction_id}"


def line_amounts(line: ArrearsLine) -> tuple[Decimal, Decimal]:
    """The portions the line owes as assessed now: its last approved correction's, else the
    imported ones."""
    latest = (
        LineCorrection.objects.filter(line=line, state=CorrectionState.APPROVED)
        .order_by("-decided_on", "-pk")
        .values_list("employer_amount", "employee_amount")
        .first()
    )
    return latest if latest else (line.employer_amount, line.employee_amount)


def _correctable(line: ArrearsLine, case: ArrearsCase) -> None:
    """Refuse a line whose correction the rules cannot carry out, saying what to do instead."""
    if line.source_line_id is not None or case.state == CaseState.TRANSFERRED:
        raise ValidationError(
            _(
                "The line of %(person)s for %(period)s (case %(case)s) was split among "
                "successors, who each owe a share of it: a correction would change every share. "
                "Import the difference as new arrears of the successors, or settle it with them "
                "by agreement."
            )
            % {"person": line.person_id, "period": line.period, "case": case.case_no},
            code="split",
        )
    if case.state == CaseState.AGREEMENT:
        number = (
            Agreement.objects.filter(case=case, state=AgreementState.IN_FORCE)
            .values_list("number", flat=True)
            .first()
        )
        raise ValidationError(
            _(
                "Case %(case)s is under agreement %(number)s, whose total fixed these amounts: "
                "terminate the agreement, approve the correction, then sign a new agreement."
            )
            % {"case": case.case_no, "number": number},
            code="agreement",
        )
    if case.state == CaseState.WRITEOFF:
        raise ValidationError(
            _(
                "Case %(case)s is under write-off examination: wait for audit's decision (a "
                "rejected write-off returns the case, which can then be corrected)."
            )
            % {"case": case.case_no},
            code="writeoff",
        )
    if case.state == CaseState.WRITTEN_OFF:
        raise ValidationError(
            _("Case %(case)s was written off: its debt is closed and can no longer be corrected.")
            % {"case": case.case_no},
            code="written_off",
        )


def _amounts_check(line: ArrearsLine, employer: Decimal, employee: Decimal) -> None:
    for name, value in (("employer_amount", employer), ("employee_amount", employee)):
        if value < 0 or value != value.quantize(Decimal("0.01")):
            raise ValidationError(
                {name: _("An amount of at least 0.00 with at most 2 decimals.")}, code="amount"
            )
    if (employer, employee) == line_amounts(line):
        raise ValidationError(
            _("The line already has these amounts (%(employer)s and %(employee)s).")
            % {"employer": employer, "employee": employee},
            code="unchanged",
        )


def _record(
    line: ArrearsLine,
    case: ArrearsCase,
    *,
    employer: Decimal,
    employee: Decimal,
    reason: str,
    document_ref: str,
    actor: Actor,
    file_name: str = "",
) -> LineCorrection:
    _correctable(line, case)
    _amounts_check(line, employer, employee)
    if LineCorrection.objects.filter(line=line, state=CorrectionState.RECORDED).exists():
        raise ValidationError(
            _(
                "The line already has a correction waiting for approval: approve or reject it "
                "first."
            ),
            code="pending",
        )
    before = line_amounts(line)
    # The manager of a django-fsm-2 model is Any to mypy (the library declares its mixin a Model
    # when type checking, which hides the manager from django-stubs): the annotation says what
    # it is.
    correction: LineCorrection = LineCorrection.objects.create(
        line=line,
        case=case,
        employer_before=before[0],
        employee_before=before[1],
        employer_amount=employer,
        employee_amount=employee,
        reason=reason,
        document_ref=document_ref,
        file_name=file_name,
        recorded_by=actor_user(actor),
        recorded_label=actor_label(actor),
    )
    _audit_recorded(correction, actor=actor)
    return correction


def _audit_recorded(correction: LineCorrection, *, actor: Actor) -> None:
    audit_record(
        correction,
        "record",
        actor=actor,
        reason=Reason(
            "correction_recorded",
            employer_before=correction.employer_before,
            employee_before=correction.employee_before,
            employer=correction.employer_amount,
            employee=correction.employee_amount,
            why=correction.reason,
            document=correction.document_ref,
        ),
    )


def correction_record(
    *,
    line_id: int,
    employer_amount: Decimal,
    employee_amount: Decimal,
    reason: str,
    document_ref: str,
    actor: Actor,
) -> LineCorrection:
    """Record the right portions of a line; they take effect once a second collection user
    approves them."""
    require_permission(actor, "replenish.correct_line", action=_("correct an imported line"))
    reason, document_ref = reason.strip(), document_ref.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the line is corrected.")}, code="reason")
    if not document_ref:
        raise ValidationError(
            {"document_ref": _("Name the document that says so.")}, code="document"
        )
    with transaction.atomic():
        case_id = ArrearsLine.objects.values_list("case_id", flat=True).get(pk=line_id)
        case = ArrearsCase.objects.select_for_update().get(pk=case_id)
        line = ArrearsLine.objects.select_for_update().get(pk=line_id)
        return _record(
            line,
            case,
            employer=employer_amount,
            employee=employee_amount,
            reason=reason,
            document_ref=document_ref,
            actor=actor,
        )


# --- a file of many corrections, all or nothing -------------------------------------------------


@dataclass(frozen=True)
class CorrectionsImportResult:
    rows: int
    corrections: list[LineCorrection]


# The steps of one all-or-nothing import, each a refusal of its own (C901 allowed here).
def corrections_import(  # noqa: C901
    *, file: IO[bytes] | IO[str], file_name: str, actor: Actor
) -> CorrectionsImportResult:
    """Record the corrections of a file (docs/formats.md, "Corrections of imported lines"):
    every row valid, or nothing recorded and every bad row reported as `line N: column: reason`.
    The `reason` column is the reason and its document reference."""
    require_permission(actor, "replenish.correct_line", action=_("correct an imported line"))
    errors: list[RowError] = []
    parsed = []
    seen: dict[tuple[str, str, str], int] = {}
    with text_stream(file) as stream:
        for line_no, values in read_rows(stream, COLUMNS, errors):
            uscc = checked(errors, line_no, "unit_uscc", validate_uscc, values[0])
            period = checked(errors, line_no, "period", parse_period, values[1])
            id_number = checked(errors, line_no, "id_number", validate_id_number, values[2])
            employer = checked(
                errors, line_no, "employer_amount", lambda v: parse_amount(v, allow_zero=True),
                values[3],
            )  # fmt: skip
            employee = checked(
                errors, line_no, "employee_amount", lambda v: parse_amount(v, allow_zero=True),
                values[4],
            )  # fmt: skip
            reason = checked(errors, line_no, "reason", parse_required, values[5])
            if None in (uscc, period, id_number, employer, employee, reason):
                continue
            key = (uscc, period, id_number)
            if key in seen:
                errors.append(RowError(line_no, "id_number", f"the same line as line {seen[key]}"))
                continue
            seen[key] = line_no
            parsed.append((line_no, key, employer, employee, reason))
    if errors:
        raise FileRejected(errors)
    with transaction.atomic():
        found = {
            (uscc, period, id_number): (pk, case_id)
            for pk, case_id, uscc, period, id_number in ArrearsLine.objects.filter(
                source_line__isnull=True,
                unit__uscc__in={key[0] for _n, key, *_r in parsed},
            ).values_list("pk", "case_id", "unit__uscc", "period", "person__id_number")
        }
        for line_no, key, *_rest in parsed:
            if key not in found:
                errors.append(
                    RowError(line_no, "id_number", "no line of this unit, period and person")
                )
        if errors:
            raise FileRejected(errors)
        case_ids = sorted({found[key][1] for _n, key, *_r in parsed})
        cases = ArrearsCase.objects.select_for_update().in_bulk(case_ids)
        line_ids = sorted(found[key][0] for _n, key, *_r in parsed)
        lines = ArrearsLine.objects.select_for_update().order_by("pk").in_bulk(line_ids)
        corrections = []
        for line_no, key, employer, employee, reason in parsed:
            pk, case_id = found[key]
            try:
                corrections.append(
                    _record(
                        lines[pk],
                        cases[case_id],
                        employer=employer,
                        employee=employee,
                        reason=reason,
                        document_ref=reason[:100],
                        actor=actor,
                        file_name=file_name,
                    )
                )
            except ValidationError as exc:
                errors.append(RowError(line_no, "row", " ".join(exc.messages)))
        if errors:
            transaction.set_rollback(True)
            raise FileRejected(errors)
    return CorrectionsImportResult(rows=len(parsed), corrections=corrections)


# --- the second user decides ------------------------------------------------------------------


def _locked(correction_id: int) -> tuple[ArrearsCase, ArrearsLine, LineCorrection]:
    line_id, case_id = LineCorrection.objects.values_list("line_id", "case_id").get(
        pk=correction_id
    )
    case = ArrearsCase.objects.select_for_update().select_related("unit").get(pk=case_id)
    line = ArrearsLine.objects.select_for_update().get(pk=line_id)
    correction = LineCorrection.objects.select_for_update().get(pk=correction_id)
    return case, line, correction


def _second_user(correction: LineCorrection, actor: Actor) -> None:
    user = actor_user(actor)
    if user is None:
        raise ValidationError(
            _("A correction takes effect when a collection user approves it, not the system."),
            code="four_eyes",
        )
    if correction.recorded_by_id == user.pk:
        raise ValidationError(
            _(
                "You recorded correction %(number)s: a second collection user must approve or "
                "reject it (four eyes)."
            )
            % {"number": correction.pk},
            code="four_eyes",
        )


def correction_reject(*, correction_id: int, reason: str, actor: Actor) -> LineCorrection:
    require_permission(actor, "replenish.correct_line", action=_("decide a correction"))
    if not reason.strip():
        raise ValidationError(_("Say why the correction is rejected."), code="reason")
    with transaction.atomic():
        _case, _line, correction = _locked(correction_id)
        _second_user(correction, actor)
        transition_apply(
            correction,
            "reject",
            actor=actor,
            reason=reason.strip(),
            on=timezone.localdate(),
            by=actor_user(actor),
            why=reason.strip(),
        )
    return correction


def correction_approve(
    *, correction_id: int, actor: Actor, on: date | None = None
) -> LineCorrection:
    """A second collection user approves the correction: it takes effect (see the module)."""
    require_permission(actor, "replenish.correct_line", action=_("decide a correction"))
    on = on or timezone.localdate()
    with transaction.atomic():
        case, line, correction = _locked(correction_id)
        _second_user(correction, actor)
        _correctable(line, case)
        if line_amounts(line) != (correction.employer_before, correction.employee_before):
            raise ValidationError(
                _(
                    "The line's amounts changed since correction %(number)s was recorded: "
                    "reject it and record a new one."
                )
                % {"number": correction.pk},
                code="changed",
            )
        transition_apply(correction, "approve", actor=actor, on=on, by=actor_user(actor))
        _take_effect(case, line, correction, on=on, actor=actor)
    return correction


def _paid_by_day(line: ArrearsLine) -> dict[date, Decimal]:
    """Principal paid on the line by the money that stays (reversed arrivals never arrived)."""
    reversed_sources = LedgerEntry.objects.filter(
        line=line, kind=LedgerKind.PAYMENT_REVERSED, source__startswith="arrival:"
    ).values("source")
    paid: dict[date, Decimal] = {}
    for on, employer, employee in (
        LedgerEntry.objects.filter(line=line, kind=LedgerKind.PAYMENT_APPLIED)
        .exclude(source__in=reversed_sources)
        .values_list("effective_on", "employer", "employee")
    ):
        paid[on] = paid.get(on, ZERO) - employer - employee
    return paid


def _freezes(case: ArrearsCase) -> list[Freeze]:
    freezes = []
    for state, signed_on, ended_on, breached_due_on in Agreement.objects.filter(
        case=case, signed_on__isnull=False
    ).values_list("state", "signed_on", "ended_on", "breached_due_on"):
        last = breached_due_on if state == AgreementState.BREACHED else ended_on
        first = signed_on + timedelta(days=1)
        if last is not None and last < first:
            continue  # ended the day it was signed (a merger that day): no day was frozen
        freezes.append(Freeze(first_day=first, last_day=last))
    if case.bankruptcy_fee_stop is not None:
        freezes.append(Freeze(first_day=case.bankruptcy_fee_stop + timedelta(days=1)))
    return freezes


def corrected_fee_fixed(line: ArrearsLine, case: ArrearsCase, principal: Decimal) -> Decimal:
    """The fee the line would have had fixed had it been assessed at `principal`: the same fix
    dates (its payments and the other fixes of its fee), the same stops, the fee of each stretch
    on the principal then unpaid, rounded where it was fixed."""
    paid = _paid_by_day(line)
    fixed_on = set(
        LedgerEntry.objects.filter(line=line, kind=LedgerKind.LATE_FEE_FIXED).values_list(
            "effective_on", flat=True
        )
    )
    freezes = _freezes(case)
    policy = late_fee_policy()
    total, since, unpaid = ZERO, line.due_date, principal
    for day in sorted(fixed_on | set(paid)):
        if day > since:
            segments = late_fee_breakdown(
                principal=unpaid, due_date=since, as_of=day, freezes=freezes, policy=policy
            )
            total += round_fen(sum((s.amount for s in segments), ZERO))
            since = day
        unpaid = max(ZERO, unpaid - paid.get(day, ZERO))
    if policy.cap_at_principal:
        total = min(total, principal)
    return total


def _take_effect(
    case: ArrearsCase, line: ArrearsLine, correction: LineCorrection, *, on: date, actor: Actor
) -> None:
    source = correction_source(correction.pk)
    why = Reason(
        "correction_of",
        correction=correction.pk,
        why=correction.reason,
        document=correction.document_ref,
    )
    employer, employee = correction.employer_amount, correction.employee_amount
    paid_employer = correction.employer_before - line.employer_unpaid
    paid_employee = correction.employee_before - line.employee_unpaid
    fee_fixed = corrected_fee_fixed(line, case, employer + employee)
    paid_fee = line.fee_fixed_total - line.fee_unpaid
    excess = (
        max(ZERO, paid_employer - employer),
        max(ZERO, paid_employee - employee),
        max(ZERO, paid_fee - fee_fixed),
    )
    postings = [
        Posting(
            case_id=case.pk,
            line_id=line.pk,
            kind=LedgerKind.CORRECTION,
            effective_on=on,
            source=source,
            employer=employer - correction.employer_before,
            employee=employee - correction.employee_before,
            late_fee=fee_fixed - line.fee_fixed_total,
            reason=why,
        )
    ]
    if any(excess):
        # First: the database refuses an entry that would take the line below zero.
        postings.insert(
            0,
            Posting(
                case_id=case.pk,
                line_id=line.pk,
                kind=LedgerKind.PAYMENT_REVERSED,
                effective_on=on,
                source=source,
                employer=excess[0],
                employee=excess[1],
                late_fee=excess[2],
                reason=Reason("paid_beyond_corrected_debt_to_credit", why=why),
            ),
        )
        _excess_to_credit(case, line, sum(excess, ZERO), on=on, why=why, actor=actor)
    ledger_post(postings, actor=actor)
    case.refresh_from_db(fields=["principal_unpaid", "fee_unpaid"])
    owes = bool(case.principal_unpaid or case.fee_unpaid)
    if case.state == CaseState.SETTLED and owes:
        transition_apply(case, "reopen", actor=actor, reason=why, to_state=CaseState.OVERDUE)
    elif not owes and can_proceed(case.settle):
        transition_apply(case, "settle", actor=actor, reason=why)


def moved_by_corrections(*, arrival: Arrival) -> dict[int, Decimal]:
    """{line: the money of this arrival that corrections took off the line as paid beyond its
    corrected debt (the unit's credit now)}."""
    return _moved_by_line(CreditEntry.objects.filter(kind=CreditKind.CORRECTED, arrival=arrival))


def moved_by_offsets_corrections(offset_ids: Sequence[int]) -> dict[int, dict[int, Decimal]]:
    """{offset: {line: the money of this credit offset that corrections took off the line}},
    for these offsets in one query ({} for an offset no correction touched)."""
    moved: dict[int, dict[int, Decimal]] = defaultdict(dict)
    entries = CreditEntry.objects.filter(kind=CreditKind.CORRECTED, offset_id__in=offset_ids)
    for offset_id, line_id, amount in entries.values_list("offset_id", "line_id", "amount"):
        by_line = moved[offset_id]
        by_line[_corrected_line(line_id)] = by_line.get(line_id, ZERO) + amount
    return moved


def _moved_by_line(entries: QuerySet[CreditEntry]) -> dict[int, Decimal]:
    moved: dict[int, Decimal] = {}
    for line_id, amount in entries.values_list("line_id", "amount"):
        moved[_corrected_line(line_id)] = moved.get(line_id, ZERO) + amount
    return moved


def _corrected_line(line_id: int | None) -> int:
    if line_id is None:
        raise RuntimeError("a corrected credit entry names no line")
    return line_id


def still_on_line(
    line: ArrearsLine, paid: tuple[Decimal, Decimal, Decimal], moved: dict[int, Decimal]
) -> tuple[Decimal, Decimal, Decimal]:
    """Of the portions (employer, employee, fee) one payment put on the line, what is still
    there: less what corrections moved to credit (`moved`, consumed as it is used), no portion
    beyond what is paid on it now. Undoing the payment takes back only this from the line."""
    left = moved.get(line.pk, ZERO)
    if not left:
        return paid
    used = min(left, sum(paid, ZERO))
    moved[line.pk] = left - used
    employer_assessed, employee_assessed = line_amounts(line)
    paid_now = (
        employer_assessed - line.employer_unpaid,
        employee_assessed - line.employee_unpaid,
        line.fee_fixed_total - line.fee_unpaid,
    )
    target = sum(paid, ZERO) - used
    kept = []
    for portion, room in zip(paid, paid_now, strict=True):
        take = max(ZERO, min(portion, room, target))
        kept.append(take)
        target -= take
    # What corrections moved is counted in money, not by portion: a correction that took this
    # payment's employee portion and fee off the line may have credited part of that to a later
    # payment on the employer portion (the last money first), whose money stays on the line. So
    # what is left of this payment is taken from the room the other portions have (found by the
    # ledger state machine: "91.48 of the payment fits no portion").
    for index, room in enumerate(paid_now):
        extra = max(ZERO, min(room - kept[index], target))
        kept[index] += extra
        target -= extra
    if target:
        raise RuntimeError(f"line {line.pk}: {target} of the payment fits no portion")
    return kept[0], kept[1], kept[2]


def _excess_to_credit(
    case: ArrearsCase,
    line: ArrearsLine,
    amount: Decimal,
    *,
    on: date,
    why: Reason | str,
    actor: Actor,
) -> None:
    """Credit entries for the money paid beyond the corrected debt, against the payers that
    paid the line, newest first: an arrival or a credit offset (a credit entry belongs to the
    money it came from, so undoing that money takes this credit back instead of paying the line
    again)."""
    reversed_sources = LedgerEntry.objects.filter(
        line=line, kind=LedgerKind.PAYMENT_REVERSED, source__startswith="arrival:"
    ).values("source")
    payers = (
        LedgerEntry.objects.filter(line=line, kind=LedgerKind.PAYMENT_APPLIED)
        .exclude(source__in=reversed_sources)
        .values("source")
        .annotate(paid=Sum("employer") + Sum("employee") + Sum("late_fee"), posted=Max("pk"))
    )
    # What each payer still has on the line: an offset taken back in part, money an earlier
    # correction moved to credit already.
    taken_back = dict(
        LedgerEntry.objects.filter(
            line=line, kind=LedgerKind.PAYMENT_REVERSED, source__startswith="offset:"
        )
        .values("source")
        .annotate(back=Sum("employer") + Sum("employee") + Sum("late_fee"))
        .values_list("source", "back")
    )
    for arrival_id, offset_id, moved in CreditEntry.objects.filter(
        line=line, kind=CreditKind.CORRECTED
    ).values_list("arrival_id", "offset_id", "amount"):
        key = f"arrival:{arrival_id}" if arrival_id else f"offset:{offset_id}"
        taken_back[key] = Decimal(str(taken_back.get(key) or 0)) + moved
    left = amount
    # The newest money first, by when it was posted to the line.
    for row in sorted(payers, key=lambda r: r["posted"], reverse=True):
        if left <= 0:
            break
        kind, key = row["source"].split(":")
        still = -Decimal(str(row["paid"])) - Decimal(str(taken_back.get(row["source"]) or 0))
        take = min(left, still.quantize(Decimal("0.01")))
        if take <= 0:
            continue
        CreditEntry.objects.create(
            unit_id=case.unit_id,
            arrival_id=int(key) if kind == "arrival" else None,
            offset_id=int(key) if kind == "offset" else None,
            case=case,
            line=line,
            kind=CreditKind.CORRECTED,
            amount=take,
            effective_on=on,
            actor=actor_user(actor),
            actor_label=actor_label(actor),
            **reason_fields(Reason("paid_beyond_corrected_debt", why=why)),
        )
        left -= take
