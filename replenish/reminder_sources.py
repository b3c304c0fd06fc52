"""The reminder sources of the write-off and of the unmatched arrivals (notices.reminders): which
things need the rule's reminder, counted from which date, and what goes to which department.
Registered from `ReplenishConfig.ready()`."""

from django.conf import settings
from django.utils import timezone

from notices.messages import Kind
from notices.models import Department
from notices.notifications import Outgoing, unit_channels
from notices.reminders import BATCH, Anchor, ReminderSource, register
from replenish.models import (
    Agreement,
    AgreementState,
    Arrival,
    ArrivalState,
    CaseState,
    WriteOffApplication,
    WriteOffState,
)

WAITING_IN_AUDIT = (WriteOffState.ACCEPTED, WriteOffState.FIRST_APPROVED)


def _department_message(reminder, department: str, kind: str, context: dict, case_id=None):
    return Outgoing(
        dedupe_key=f"reminder:{reminder.pk}:department:{department}",
        kind=kind,
        channel="email",
        context=context,
        department=department,
        case_id=case_id,
    )


class WriteOffWaiting(ReminderSource):
    """An application accepted by collection that audit has not decided, N days after it reached
    audit. (The case is in `writeoff` by then: this reminder is about the application, to staff.)"""

    rule = "writeoff_waiting"
    subject = "writeoff"

    def anchors(self, *, subject_ids=None):
        waiting = WriteOffApplication.objects.filter(
            state__in=WAITING_IN_AUDIT, accepted_at__isnull=False
        )
        if subject_ids is not None:
            waiting = waiting.filter(pk__in=list(subject_ids))
        rows = waiting.values_list("pk", "accepted_at", "case_id").iterator(chunk_size=BATCH)
        for pk, accepted_at, case_id in rows:
            yield Anchor(subject_id=pk, anchor=timezone.localdate(accepted_at), case_id=case_id)

    def still_due(self, subject_ids):
        return set(
            WriteOffApplication.objects.filter(
                pk__in=list(subject_ids), state__in=WAITING_IN_AUDIT
            ).values_list("pk", flat=True)
        )

    def messages(self, reminders):
        applications = WriteOffApplication.objects.select_related("case").in_bulk(
            [r.subject_id for r in reminders]
        )
        outgoing = []
        for reminder in reminders:
            application = applications[reminder.subject_id]
            case = application.case
            context = {
                "writeoff_no": application.writeoff_no,
                "case_no": case.case_no,
                "amount": str(case.principal_unpaid + case.fee_unpaid),
                "submitted_on": reminder.anchor.isoformat(),
                "days": str(reminder.rule.days),
            }
            outgoing.append(
                _department_message(
                    reminder, Department.AUDIT, Kind.WRITEOFF_WAITING, context, case.pk
                )
            )
        return outgoing


class ArrivalUnmatched(ReminderSource):
    """An arrival in finance's unmatched queue, N days after it arrived."""

    rule = "arrival_unmatched"
    subject = "arrival"

    def anchors(self, *, subject_ids=None):
        unmatched = Arrival.objects.filter(state=ArrivalState.UNMATCHED)
        if subject_ids is not None:
            unmatched = unmatched.filter(pk__in=list(subject_ids))
        for pk, arrived_on in unmatched.values_list("pk", "arrived_on").iterator(chunk_size=BATCH):
            yield Anchor(subject_id=pk, anchor=arrived_on)

    def still_due(self, subject_ids):
        return set(
            Arrival.objects.filter(
                pk__in=list(subject_ids), state=ArrivalState.UNMATCHED
            ).values_list("pk", flat=True)
        )

    def messages(self, reminders):
        arrivals = Arrival.objects.in_bulk([r.subject_id for r in reminders])
        outgoing = []
        for reminder in reminders:
            arrival = arrivals[reminder.subject_id]
            context = {
                "arrival_ref": arrival.arrival_ref,
                "amount": str(arrival.amount),
                "payer_uscc": arrival.payer_uscc,
                "arrived_on": arrival.arrived_on.isoformat(),
                "days": str(reminder.rule.days),
            }
            outgoing.append(
                _department_message(reminder, Department.FINANCE, Kind.ARRIVAL_UNMATCHED, context)
            )
        return outgoing


class AgreementBreached(ReminderSource):
    """A breached agreement, N days after the breach: to the counterparty (on its unit's channels,
    when it is an insured unit the agency knows) and to the collection department. Not for a case
    under write-off examination or closed since."""

    rule = "agreement_breached"
    subject = "agreement"
    # The breach made the case overdue; a new notice may follow.
    case_states = (CaseState.OVERDUE, CaseState.NOTIFIED)

    def anchors(self, *, subject_ids=None):
        breached = Agreement.objects.filter(
            state=AgreementState.BREACHED,
            ended_on__isnull=False,
            case__state__in=self.case_states,
        )
        if subject_ids is not None:
            breached = breached.filter(pk__in=list(subject_ids))
        rows = breached.values_list("pk", "ended_on", "case_id").iterator(chunk_size=BATCH)
        for pk, ended_on, case_id in rows:
            yield Anchor(subject_id=pk, anchor=ended_on, case_id=case_id)

    def still_due(self, subject_ids):
        return set(
            Agreement.objects.filter(
                pk__in=list(subject_ids),
                state=AgreementState.BREACHED,
                case__state__in=self.case_states,
            ).values_list("pk", flat=True)
        )

    def messages(self, reminders):
        agreements = Agreement.objects.select_related("counterparty__unit", "case").in_bulk(
            [r.subject_id for r in reminders]
        )
        channels = unit_channels(
            {a.counterparty.unit_id for a in agreements.values() if a.counterparty.unit_id}
        )
        outgoing = []
        for reminder in reminders:
            agreement = agreements[reminder.subject_id]
            party = agreement.counterparty
            context = {
                "unit_name": party.display_name,
                "agreement_no": agreement.number,
                "agency_name": settings.AGENCY_NAME,
                "agency_contact": settings.AGENCY_CONTACT,
            }
            for channel, address in channels.get(party.unit_id, []):
                outgoing.append(
                    Outgoing(
                        dedupe_key=f"reminder:{reminder.pk}:{channel}",
                        kind=Kind.AGREEMENT_BREACHED,
                        channel=channel,
                        context=context,
                        unit_id=party.unit_id,
                        address=address,
                        case_id=agreement.case_id,
                    )
                )
            outgoing.append(
                _department_message(
                    reminder,
                    Department.COLLECTION,
                    Kind.AGREEMENT_BREACHED,
                    context,
                    agreement.case_id,
                )
            )
        return outgoing


def register_sources() -> None:
    register(WriteOffWaiting())
    register(ArrivalUnmatched())
    register(AgreementBreached())
