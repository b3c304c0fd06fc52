"""Repayment agreements (补缴协议) and liquidation agreements (清算协议).

Staff draft, sign and terminate them (`agreement_draft`, `agreement_sign`, `agreement_terminate`,
`agreement_scan_attach`); the daily run finds the ones breached or fulfilled
(`agreements_breach_due`, `agreements_fulfil_due`).

Late fee while an agreement is in force: signing fixes the fee to the signing date and
stops accrual there (`fee_stops_on` = signing date); a breach resumes it from the day after the
breached installment's due date on the principal unpaid on each day (money that arrived during
the grace days ends a segment on its arrival date: `lines_fee_resume`); a termination resumes
it from the day after the termination. A bankrupt unit's stop (the day before acceptance) is
never lifted.

Locks: the case, then its agreement, then its lines, each set in primary-key order.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import DateField, F, Min, OuterRef, Q, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, System, require_permission
from kernel.money import Installment as PlannedInstallment
from kernel.money import installment_schedule
from kernel.sql import models_update
from kernel.uploads import document_check, removed_on_failure
from replenish.models import (
    KIND_OF_COUNTERPARTY,
    LIVE_AGREEMENT_STATES,
    MAY_FULFIL_AN_AGREEMENT,
    Agreement,
    AgreementKind,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    CaseState,
    Installment,
    ReadingMark,
)
from replenish.reasons import Reason
from replenish.selectors import ZERO, case_owed, debt_by_period
from replenish.services.changes import (
    cases_changed_since,
    oldest_open_transaction_start,
    reading_mark_advance,
    reading_mark_of,
)
from replenish.services.fee_resume import lines_fee_resume
from replenish.services.ledger import lines_fee_fix
from replenish.services.numbering import agreement_number, agreement_scope, number_block_take
from replenish.services.transitions import audit_record, transition_apply, transition_apply_bulk
from units.models import DOCUMENT_EXTENSIONS, Counterparty, CounterpartyKind, UnitStatus

# A case can take an agreement from these states (the sources of `agreement_take_effect`).
AGREEMENT_CASE_STATES = (CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE)


# --- checks shared by drafting, previewing and signing ----------------------------------------


def installment_count_check(count: object) -> int:
    longest = settings.INSTALLMENT_MAX_MONTHS
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= longest:
        raise ValidationError(
            _(
                "Number of installments: %(count)s is not allowed; an agreement runs for 1 to "
                "%(max)s monthly installments."
            )
            % {"count": count, "max": longest},
            code="term",
        )
    return count


def case_agreement_check(case: ArrearsCase) -> None:
    """The case can take a new agreement: open, not under write-off examination, none live."""
    if case.state == CaseState.AGREEMENT:
        raise ValidationError(
            _("Case %(case)s is already under an agreement in force.") % {"case": case.case_no},
            code="case_state",
        )
    if case.state not in AGREEMENT_CASE_STATES:
        raise ValidationError(
            _(
                "Case %(case)s is %(state)s: an agreement is possible only for a registered, "
                "notified or overdue case."
            )
            % {"case": case.case_no, "state": case.get_state_display()},
            code="case_state",
        )


def case_counterparty(case: ArrearsCase) -> Counterparty:
    """Who an agreement about this case is signed with: its obligor, or the unit itself.

    The unit itself only while it is active: a unit that was split owes through the successors'
    cases, so its own case must be apportioned first (`case_split`).
    """
    if case.obligor is not None:
        return case.obligor
    unit = case.unit
    if unit.status != UnitStatus.ACTIVE:
        raise ValidationError(
            _(
                "Unit %(unit)s is %(status)s: case %(case)s must first pass to its successors "
                "(apportion it among the separated parties)."
            )
            % {"unit": unit.uscc, "status": unit.get_status_display(), "case": case.case_no},
            code="obligor",
        )
    counterparty, _created = Counterparty.objects.get_or_create(
        kind=CounterpartyKind.UNIT, unit=unit, defaults={"name": unit.name, "uscc": unit.uscc}
    )
    return counterparty


# --- preview (a read; the admin shows it before drafting and signing) --------------------------


@dataclass(frozen=True)
class SchedulePreview:
    as_of: date
    principal: Decimal
    late_fee: Decimal
    installments: list[PlannedInstallment]

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee


def agreement_preview(*, case: ArrearsCase, count: int, signed_on: date) -> SchedulePreview:
    """What signing on `signed_on` would fix and the schedule it would give; writes nothing.

    The same figures signing posts: the late fee to that date, per line rounded, summed.
    """
    installment_count_check(count)
    owed = case_owed(case.pk, as_of=signed_on)
    return SchedulePreview(
        as_of=signed_on,
        principal=owed.principal,
        late_fee=owed.late_fee,
        installments=_schedule(owed.total, signed_on=signed_on, count=count, case=case),
    )


def _schedule(
    total: Decimal, *, signed_on: date, count: int, case: ArrearsCase
) -> list[PlannedInstallment]:
    if total <= 0:
        raise ValidationError(
            _("Case %(case)s owes nothing: there is nothing to agree.") % {"case": case.case_no},
            code="nothing_owed",
        )
    try:
        return installment_schedule(
            total, signed_on=signed_on, count=count, max_count=settings.INSTALLMENT_MAX_MONTHS
        )
    except ValueError as exc:  # e.g. 0.05 in 12 installments: each would be 0.00
        raise ValidationError(
            _("Schedule of case %(case)s: %(reason)s.") % {"case": case.case_no, "reason": exc},
            code="schedule",
        ) from exc


# --- draft --------------------------------------------------------------------------------------


def agreement_draft(
    *,
    case_id: int,
    installment_count: int,
    actor: Actor,
    drafted_on: date | None = None,
    note: str = "",
    deferred: bool = False,
) -> Agreement:
    """Draft the agreement of a case with whoever owes it now; the kind follows from that party
    (the unit itself: installment; merging party: merger; separated party: split; liquidation
    group: liquidation; competent authority: auction). Numbered when drafted. `deferred`: a
    deferred-payment agreement (延期缴费协议, Social Insurance Law Art. 63) with the unit itself,
    drafted by an enforcement dossier against the unit's guarantee."""
    require_permission(actor, "replenish.sign_agreement")
    today = timezone.localdate()
    drafted_on = drafted_on or today
    if drafted_on > today:
        raise ValidationError(
            _("Draft date %(date)s is in the future.") % {"date": drafted_on}, code="date"
        )
    installment_count_check(installment_count)
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("unit", "obligor")
            .get(pk=case_id)
        )
        case_agreement_check(case)
        live = Agreement.objects.filter(case=case, state__in=LIVE_AGREEMENT_STATES).first()
        if live is not None:
            raise ValidationError(
                _("Case %(case)s already has agreement %(number)s (%(state)s).")
                % {"case": case.case_no, "number": live.number, "state": live.get_state_display()},
                code="live_agreement",
            )
        counterparty = case_counterparty(case)
        # Refuse a schedule that cannot be made today rather than at signing.
        _schedule(
            case_owed(case.pk, as_of=drafted_on).total,
            signed_on=drafted_on,
            count=installment_count,
            case=case,
        )
        sequence = number_block_take(scope=agreement_scope(case.region_code, drafted_on.year))
        agreement: Agreement = Agreement.objects.create(
            number=agreement_number(case.region_code, drafted_on.year, sequence),
            case=case,
            kind=_kind(counterparty, deferred=deferred, case=case),
            counterparty=counterparty,
            installment_count=installment_count,
            drafted_on=drafted_on,
            note=note,
        )
        audit_record(
            agreement,
            "draft",
            actor=actor,
            reason=Reason(
                "agreement_drafted",
                agreement=agreement.number,
                party=Reason(
                    "party_of_kind", party=counterparty.display_name, kind=counterparty.kind
                ),
            ),
        )
    return agreement


def _kind(counterparty: Counterparty, *, deferred: bool, case: ArrearsCase) -> str:
    if not deferred:
        return KIND_OF_COUNTERPARTY[counterparty.kind]
    if counterparty.kind != CounterpartyKind.UNIT:
        raise ValidationError(
            _(
                "Case %(case)s is owed by %(party)s: a deferred-payment agreement is signed "
                "with the unit itself."
            )
            % {"case": case.case_no, "party": counterparty},
            code="obligor",
        )
    return AgreementKind.DEFERRED


# --- sign ---------------------------------------------------------------------------------------


def _locked(agreement_id: int) -> tuple[ArrearsCase, Agreement]:
    """Lock the agreement's case, then the agreement (parent before child)."""
    case_id = Agreement.objects.values_list("case_id", flat=True).get(pk=agreement_id)
    case = (
        ArrearsCase.objects.select_for_update(of=("self",))
        .select_related("unit", "obligor")
        .get(pk=case_id)
    )
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("counterparty")
        .get(pk=agreement_id)
    )
    return case, agreement


def agreement_sign(
    *,
    agreement_id: int,
    actor: Actor,
    signed_on: date | None = None,
    signatory: str = "",
) -> Agreement:
    """Sign a draft: fix the late fee of every line to the signing date (posted to the ledger),
    fix principal + fee as the agreed total, split it into monthly installments, stop the late
    fee while the agreement is in force, and put the case under the agreement."""
    today = timezone.localdate()
    signed_on = signed_on or today
    if signed_on > today:
        raise ValidationError(
            _("Signing date %(date)s is in the future.") % {"date": signed_on}, code="date"
        )
    with transaction.atomic():
        case, agreement = _locked(agreement_id)
        if agreement.state != AgreementState.DRAFT:
            raise ValidationError(
                _("Agreement %(number)s is %(state)s: only a draft can be signed, once.")
                % {"number": agreement.number, "state": agreement.get_state_display()},
                code="agreement_state",
            )
        if signed_on < agreement.drafted_on:
            raise ValidationError(
                _("Signing date %(date)s is before the draft of %(drafted)s.")
                % {"date": signed_on, "drafted": agreement.drafted_on},
                code="date",
            )
        case_agreement_check(case)
        if case_counterparty(case).pk != agreement.counterparty_id:
            raise ValidationError(
                _(
                    "Case %(case)s is now owed by %(party)s, not by the counterparty of draft "
                    "%(number)s: withdraw the draft and draft a new agreement."
                )
                % {"case": case.case_no, "party": case_counterparty(case), "number": agreement},
                code="obligor",
            )
        installment_count_check(agreement.installment_count)

        lines = list(
            ArrearsLine.objects.select_for_update()
            .filter(case=case)
            .exclude(employer_unpaid=0, employee_unpaid=0)
            .order_by("pk")
        )
        lines_fee_fix(
            lines,
            on=signed_on,
            actor=actor,
            source=f"agreement:{agreement.pk}",
            reason=Reason("agreement_signed", agreement=agreement.number),
        )
        figures = ArrearsCase.objects.values("principal_unpaid", "fee_unpaid", "paid_total").get(
            pk=case.pk
        )
        principal, fee = figures["principal_unpaid"], figures["fee_unpaid"]
        schedule = _schedule(
            principal + fee, signed_on=signed_on, count=agreement.installment_count, case=case
        )
        # While in force no fee accrues after the signing date (an earlier stop stays).
        ArrearsLine.objects.filter(case=case).filter(
            Q(fee_stops_on__isnull=True) | Q(fee_stops_on__gt=signed_on)
        ).update(fee_stops_on=signed_on)
        transition_apply(
            agreement,
            "sign",
            actor=actor,
            reason=Reason("signed_on", on=signed_on),
            signed_on=signed_on,
            signatory=signatory,
            principal=principal,
            late_fee=fee,
            paid_before=figures["paid_total"],
            periods=debt_by_period([case.pk], as_of=signed_on),
        )
        cumulative = ZERO
        rows = []
        for installment in schedule:
            cumulative += installment.amount
            rows.append(
                Installment(
                    agreement=agreement,
                    seq=installment.seq,
                    due_on=installment.due_on,
                    amount=installment.amount,
                    cumulative=cumulative,
                )
            )
        Installment.objects.bulk_create(rows)
        transition_apply(
            case,
            "agreement_take_effect",
            actor=actor,
            reason=Reason("agreement_in_force", agreement=agreement.number),
        )
    return agreement


# --- terminate ----------------------------------------------------------------------------------


def agreement_terminate(
    *, agreement_id: int, actor: Actor, reason: str, on: date | None = None
) -> Agreement:
    """Withdraw a draft, or end an agreement in force before it is fulfilled: the case's debt is
    due again (the case becomes overdue) and the late fee runs again from the day after."""
    if not reason.strip():
        raise ValidationError(_("Say why the agreement ends."), code="reason")
    on = on or timezone.localdate()
    with transaction.atomic():
        case, agreement = _locked(agreement_id)
        agreement_end(case, agreement, on=on, actor=actor, reason=reason.strip())
    return agreement


def agreement_end(
    case: ArrearsCase,
    agreement: Agreement,
    *,
    on: date,
    actor: Actor,
    reason: Reason | str,
    case_follows: bool = True,
) -> None:
    """Terminate a live agreement of a locked case, in the caller's transaction.

    Lines of an agreement that was in force accrue the late fee again from the day after `on`
    (until the unit's bankruptcy stop, if any). With `case_follows` the case leaves the
    `agreement` state (it becomes overdue); a caller that moves the case on itself (a split
    transfers it) passes False.
    """
    if agreement.state not in LIVE_AGREEMENT_STATES:
        raise ValidationError(
            _("Agreement %(number)s is %(state)s: it has already ended.")
            % {"number": agreement.number, "state": agreement.get_state_display()},
            code="agreement_state",
        )
    was_in_force = agreement.state == AgreementState.IN_FORCE
    if was_in_force and agreement.signed_on is not None and on < agreement.signed_on:
        raise ValidationError(
            _("Agreement %(number)s cannot end on %(date)s, before it was signed.")
            % {"number": agreement.number, "date": on},
            code="date",
        )
    transition_apply(agreement, "terminate", actor=actor, reason=reason, on=on, why=reason)
    if was_in_force:
        ArrearsLine.objects.filter(case=case).update(
            fee_accrues_after=Greatest(F("fee_accrues_after"), Value(on, output_field=DateField())),
            fee_stops_on=case.bankruptcy_fee_stop,
        )
        if case_follows:
            transition_apply(
                case,
                "agreement_end",
                actor=actor,
                reason=Reason("agreement_ended", agreement=str(agreement), why=reason),
            )


def live_agreements_end(
    case: ArrearsCase, *, on: date, actor: Actor, reason: Reason | str, case_follows: bool = True
) -> None:
    """End the live agreement of a locked case, if it has one (a succession event changed who
    owes it)."""
    for agreement in Agreement.objects.select_for_update().filter(
        case=case, state__in=LIVE_AGREEMENT_STATES
    ):
        agreement_end(case, agreement, on=on, actor=actor, reason=reason, case_follows=case_follows)


# --- the signed scan ----------------------------------------------------------------------------


def agreement_scan_attach(*, agreement_id: int, file: "File[Any]", actor: Actor) -> Agreement:
    """Keep the scan of the signed paper agreement (under MEDIA_ROOT)."""
    require_permission(actor, "replenish.sign_agreement")
    name = (file.name or "").rsplit("/", 1)[-1]
    document_check(file, extensions=DOCUMENT_EXTENSIONS)
    with transaction.atomic(), removed_on_failure() as stored:
        _case, agreement = _locked(agreement_id)
        if agreement.signed_on is None:
            raise ValidationError(
                _("Agreement %(number)s is not signed: there is no signed paper to scan yet.")
                % {"number": agreement.number},
                code="agreement_state",
            )
        replaced = bool(agreement.scan)
        agreement.scan.save(name, file, save=False)
        stored.append(agreement.scan)
        agreement.save(update_fields=["scan"])
        audit_record(
            agreement,
            "scan_attach",
            actor=actor,
            reason=Reason(
                "scan_replaced" if replaced else "scan_attached", file=agreement.scan.name
            ),
            from_state=agreement.state,
        )
    return agreement


# --- the daily run: breaches and fulfilments, set-based ----------------------------------------


def _paid_since_signing() -> CombinedExpression:
    return F("case__paid_total") - F("paid_before")


def agreements_breach_due(
    *,
    as_of: date,
    actor: Actor,
    batch_size: int | None = None,
    agreement_ids: list[int] | None = None,
) -> list[int]:
    """Agreements in force with an installment unpaid after its due date plus the grace days
    become breached; their cases become overdue; the late fee of every line of those cases
    resumes, on the principal then unpaid, from the day after the (first) breached installment's
    due date. Returns the agreements breached.

    An installment counts as paid once the payments on the case since signing reach its
    cumulative amount. A fixed number of queries per batch, whatever its size. `agreement_ids`
    limits the search to these (a reversal that took an installment's money back).
    """
    batch_size = batch_size or settings.BULK_BATCH_SIZE
    # due_on + grace < as_of: on the last grace day itself the installment is not yet breached.
    cutoff = as_of - timedelta(days=settings.INSTALLMENT_GRACE_DAYS)
    due = (
        Agreement.objects.filter(
            state=AgreementState.IN_FORCE,
            # A case under write-off examination waits for the decision.
            case__state=CaseState.AGREEMENT,
            installments__due_on__lt=cutoff,
            installments__cumulative__gt=_paid_since_signing(),
        )
        .exclude(case__principal_unpaid=0, case__fee_unpaid=0)
        .filter(**({} if agreement_ids is None else {"pk__in": agreement_ids}))
        .values("pk", "case_id")
        .annotate(breached_due_on=Min("installments__due_on"))
        .order_by("pk")
    )
    breached: list[int] = []
    while True:
        with transaction.atomic():
            found = list(due[:batch_size])
            if not found:
                return breached
            case_ids = sorted({row["case_id"] for row in found})
            list(ArrearsCase.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"))
            # Read again under the locks: a payment may have arrived in between.
            found = list(due.filter(pk__in=[row["pk"] for row in found]))
            if not found:
                continue
            ids = [row["pk"] for row in found]
            transition_apply_bulk(
                Agreement.objects.filter(pk__in=ids),
                "breach",
                actor=actor,
                reason=Reason("installment_unpaid", days=settings.INSTALLMENT_GRACE_DAYS, on=as_of),
            )
            models_update(
                [
                    Agreement(pk=row["pk"], ended_on=as_of, breached_due_on=row["breached_due_on"])
                    for row in found
                ],
                ["ended_on", "breached_due_on"],
            )
            case_ids = [row["case_id"] for row in found]
            transition_apply_bulk(
                ArrearsCase.objects.filter(pk__in=case_ids),
                "agreement_breach",
                actor=actor,
                reason=Reason("agreement_breached", on=as_of),
            )
            # Segment by segment from the day after the breached due date (issue 13, rule 2).
            lines_fee_resume(
                {row["case_id"]: row["breached_due_on"] for row in found},
                on=as_of,
                actor=actor,
                source={row["case_id"]: f"agreement:{row['pk']}" for row in found},
                reason=Reason("agreement_breached", on=as_of),
            )
            breached += ids


def agreements_fulfil_due(
    *, as_of: date, actor: System, batch_size: int | None = None
) -> list[int]:
    """Agreements in force whose installments are all paid (or whose case owes nothing any more)
    are fulfilled. A case that owes nothing is settled; one that still owes (debt that arrived
    after signing) is due again, as after a termination. Returns the agreements fulfilled.

    What is fulfilled does not depend on the date: an agreement becomes fulfilled only when money
    reaches its case (a ledger entry), or when its case comes under it or is settled, or it is in
    force again (`MAY_FULFIL_AN_AGREEMENT`). So after its first reading the check looks only at
    the cases with such an entry since its mark (`changes`): a day's work follows what happened
    that day, not the number of agreements in force."""
    batch_size = batch_size or settings.BULK_BATCH_SIZE
    reader = ReadingMark.Reader.AGREEMENT_FULFILMENT
    # The mark first, then what changed since the previous one (`changes.cases_changed_since`).
    with transaction.atomic():
        read_from = oldest_open_transaction_start()
        since = reading_mark_of(reader)
    done = Agreement.objects.filter(
        state=AgreementState.IN_FORCE,
        # Settled elsewhere (a payment), or paid through the agreement; a case under write-off
        # examination waits for the decision.
        case__state__in=[CaseState.AGREEMENT, CaseState.SETTLED],
    )
    if since is not None:
        done = done.filter(
            case_id__in=cases_changed_since(since, transitions=MAY_FULFIL_AN_AGREEMENT)
        )
    done = (
        done.filter(
            Q(total__lte=_paid_since_signing()) | Q(case__principal_unpaid=0, case__fee_unpaid=0)
        )
        .order_by("pk")
        .values_list("pk", "case_id")
    )
    fulfilled: list[int] = []
    while True:
        with transaction.atomic():
            found = list(done[:batch_size])
            if not found:
                break
            list(
                ArrearsCase.objects.select_for_update()
                .filter(pk__in=sorted({case_id for _pk, case_id in found}))
                .order_by("pk")
            )
            found = list(done.filter(pk__in=[pk for pk, _case_id in found]))
            if not found:
                continue
            ids = [pk for pk, _case_id in found]
            case_ids = [case_id for _pk, case_id in found]
            transition_apply_bulk(
                Agreement.objects.filter(pk__in=ids),
                "fulfil",
                actor=actor,
                reason=Reason("installments_paid", on=as_of),
            )
            Agreement.objects.filter(pk__in=ids).update(ended_on=as_of)
            cases = ArrearsCase.objects.filter(pk__in=case_ids, state=CaseState.AGREEMENT)
            transition_apply_bulk(
                cases,
                "settle",
                actor=actor,
                reason=Reason("agreement_fulfilled", on=as_of),
                conditions=Q(principal_unpaid=0, fee_unpaid=0),
            )
            still_owing = list(cases.values_list("pk", flat=True))
            if still_owing:
                ArrearsLine.objects.filter(case_id__in=still_owing).update(
                    fee_accrues_after=Greatest(
                        F("fee_accrues_after"), Value(as_of, output_field=DateField())
                    ),
                    fee_stops_on=Subquery(
                        ArrearsCase.objects.filter(pk=OuterRef("case_id")).values(
                            "bankruptcy_fee_stop"
                        )[:1]
                    ),
                )
                transition_apply_bulk(
                    ArrearsCase.objects.filter(pk__in=still_owing),
                    "agreement_end",
                    actor=actor,
                    reason=Reason("agreement_fulfilled_debt_remains", on=as_of),
                )
            fulfilled += ids
    reading_mark_advance(reader, read_from)
    return fulfilled
