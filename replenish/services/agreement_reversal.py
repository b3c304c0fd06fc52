"""What reversing an arrival undoes on the case's agreement (issue 13, rule 3).

An installment counts as paid once the payments on the case since signing reach its cumulative
amount, so taking the money back off the ledger takes it off the installments too. What else the
money did is undone here, inside the reversal's transaction, after the reversing entries:

- an agreement it fulfilled is in force again (`reinstate`), with the case under it (reopened from
  `settled`, or back from `overdue`/`notified` when debt outside the agreement was due again), and
  the late fee of the lines it covered stops again at the signing date;
- an agreement in force whose installment is now unpaid past its grace days is breached at once,
  as the daily run would breach it (the fee resumes segment by segment, `lines_fee_resume`);
- a case reopened under an agreement that stays fulfilled (the payments since signing still reach
  its total) owes debt outside it: it is due again, as after a fulfilment with debt remaining.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from kernel.actors import Actor
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    CaseState,
)
from replenish.reasons import Reason
from replenish.services.agreements import agreements_breach_due
from replenish.services.transitions import transition_apply

REINSTATE_FROM = (CaseState.AGREEMENT, CaseState.NOTIFIED, CaseState.OVERDUE)


def _still_paid(agreement: Agreement, case: ArrearsCase) -> bool:
    if agreement.paid_before is None or agreement.total is None:  # fixed when it was signed
        raise ValueError(f"agreement {agreement.number}: never signed, no amounts fixed")
    return case.paid_total - agreement.paid_before >= agreement.total


def agreement_after_reversal(
    case: ArrearsCase, *, arrival_ref: str, on: date, actor: Actor, why: Reason | str = ""
) -> None:
    """Undo on the (locked) case's agreement what the reversed money did; see the module. The
    money is an arrival's (`arrival_ref`), or a credit offset's taken back (`why` says which)."""
    case.refresh_from_db(fields=["state", "principal_unpaid", "fee_unpaid", "paid_total"])
    owes = bool(case.principal_unpaid or case.fee_unpaid)
    latest = (
        Agreement.objects.select_for_update()
        .filter(case=case)
        .exclude(state=AgreementState.DRAFT)
        .order_by("-signed_on", "-pk")
        .first()
    )
    why = why or Reason("arrival_reversed", arrival=arrival_ref)
    if (
        latest is not None
        and latest.state == AgreementState.FULFILLED
        and owes
        and not _still_paid(latest, case)
        and case.state in REINSTATE_FROM
    ):
        if Agreement.objects.filter(case=case, state=AgreementState.DRAFT).exists():
            raise ValidationError(
                _(
                    "Agreement %(number)s is in force again once arrival %(ref)s is reversed, "
                    "but case %(case)s has a draft agreement: withdraw the draft first, then "
                    "reverse the arrival."
                )
                % {"number": latest.number, "ref": arrival_ref, "case": case.case_no},
                code="draft_agreement",
            )
        transition_apply(latest, "reinstate", actor=actor, reason=why)
        if case.state != CaseState.AGREEMENT:
            transition_apply(case, "agreement_reinstate", actor=actor, reason=why)
        _stop_again(case, latest)
    if case.state != CaseState.AGREEMENT:
        return
    in_force = Agreement.objects.filter(case=case, state=AgreementState.IN_FORCE).first()
    if in_force is None:
        # Reopened under an agreement that stays fulfilled: the debt outside it is due again.
        ArrearsLine.objects.filter(case=case).update(fee_stops_on=case.bankruptcy_fee_stop)
        transition_apply(
            case,
            "agreement_end",
            actor=actor,
            reason=Reason("agreement_ended_debt_remains", why=why),
        )
        return
    agreements_breach_due(as_of=on, actor=actor, agreement_ids=[in_force.pk])


def _stop_again(case: ArrearsCase, agreement: Agreement) -> None:
    """The fee of the lines the agreement covered (those on the ledger before it was signed)
    stops again at the signing date; a bankrupt unit's earlier stop stays."""
    signed_at = (
        AuditEntry.objects.filter(subject="agreement", subject_id=agreement.pk, transition="sign")
        .order_by("-pk")
        .values_list("at", flat=True)
        .first()
    )
    covered = ArrearsLine.objects.filter(case=case, ledger_entries__recorded_at__lte=signed_at)
    ArrearsLine.objects.filter(pk__in=covered.values("pk")).filter(
        Q(fee_stops_on__isnull=True) | Q(fee_stops_on__gt=agreement.signed_on)
    ).update(fee_stops_on=agreement.signed_on)
