"""The reminder sources of the write-off and of the unmatched arrivals (notices.reminders): which
things need the rule's reminder, counted from which date, and what goes to which department.
Registered from `ReplenishConfig.ready()`."""

from django.utils import timezone

from notices.messages import Kind
from notices.models import Department
from notices.notifications import Outgoing
from notices.reminders import BATCH, Anchor, ReminderSource, register
from replenish.models import Arrival, ArrivalState, WriteOffApplication, WriteOffState

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


def register_sources() -> None:
    register(WriteOffWaiting())
    register(ArrivalUnmatched())
