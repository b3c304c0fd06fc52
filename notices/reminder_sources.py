"""The reminder sources of the agreements' installments, breaches, the write-off and the unmatched
arrivals (notices.reminders): which things need the rule's reminder, counted from which date, and
what goes to whom. Registered from `ReplenishConfig.ready()`."""

from django.conf import settings
from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone

from notices.messages import Kind
from notices.models import Department
from notices.outbox import Outgoing, unit_channels
from notices.reminders import ReminderSource, register
from replenish.models import (
    Agreement,
    AgreementState,
    Arrival,
    ArrivalState,
    CaseState,
    Installment,
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

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        waiting = WriteOffApplication.objects.filter(
            state__in=WAITING_IN_AUDIT, accepted_at__isnull=False
        )
        if subject_ids is not None:
            waiting = waiting.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            waiting = waiting.filter(accepted_at__date__lte=anchored_by)
        # The day it reached audit, local time (as timezone.localdate counts it).
        waiting = waiting.annotate(
            reached_audit=TruncDate("accepted_at", tzinfo=timezone.get_current_timezone())
        )
        return self.anchor_rows(waiting, anchor="reached_audit", unscheduled_for=unscheduled_for)

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


class WriteOffReturned(ReminderSource):
    """An application returned for missing documents that nobody resubmitted or withdrew, N days
    after it was returned: to collection, and to the liquidation group by e-mail when its contact
    is an address (a counterparty has no portal inbox). Its case sits in `writeoff`, where the
    other reminders and breaches are off, so this one keeps it from being forgotten."""

    rule = "writeoff_returned"
    subject = "writeoff"

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        returned = WriteOffApplication.objects.filter(state=WriteOffState.RETURNED)
        if subject_ids is not None:
            returned = returned.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            returned = returned.filter(state_changed_at__date__lte=anchored_by)
        # The day it was returned, local time (as timezone.localdate counts it).
        returned = returned.annotate(
            returned_on=TruncDate("state_changed_at", tzinfo=timezone.get_current_timezone())
        )
        return self.anchor_rows(returned, anchor="returned_on", unscheduled_for=unscheduled_for)

    def still_due(self, subject_ids):
        return set(
            WriteOffApplication.objects.filter(
                pk__in=list(subject_ids), state=WriteOffState.RETURNED
            ).values_list("pk", flat=True)
        )

    def messages(self, reminders):
        applications = WriteOffApplication.objects.select_related("case", "applicant").in_bulk(
            [r.subject_id for r in reminders]
        )
        outgoing = []
        for reminder in reminders:
            application = applications[reminder.subject_id]
            context = {
                "writeoff_no": application.writeoff_no,
                "case_no": application.case.case_no,
                "applicant": application.applicant.display_name,
                "returned_on": reminder.anchor.isoformat(),
                "reason": application.return_reason or "-",
                "days": str(reminder.rule.days),
            }
            outgoing.append(
                _department_message(
                    reminder, Department.COLLECTION, Kind.WRITEOFF_RETURNED, context,
                    application.case_id,
                )
            )  # fmt: skip
            contact = application.applicant.contact.strip()
            if "@" in contact:
                outgoing.append(
                    Outgoing(
                        dedupe_key=f"reminder:{reminder.pk}:applicant",
                        kind=Kind.WRITEOFF_RETURNED,
                        channel="email",
                        context=context,
                        address=contact,
                        case_id=application.case_id,
                    )
                )
        return outgoing


class ArrivalUnmatched(ReminderSource):
    """An arrival in finance's unmatched queue, N days after it arrived."""

    rule = "arrival_unmatched"
    subject = "arrival"

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        unmatched = Arrival.objects.filter(state=ArrivalState.UNMATCHED)
        if subject_ids is not None:
            unmatched = unmatched.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            unmatched = unmatched.filter(arrived_on__lte=anchored_by)
        return self.anchor_rows(
            unmatched, anchor="arrived_on", case=None, unscheduled_for=unscheduled_for
        )

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

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        breached = Agreement.objects.filter(
            state=AgreementState.BREACHED,
            ended_on__isnull=False,
            case__state__in=self.case_states,
        )
        if subject_ids is not None:
            breached = breached.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            breached = breached.filter(ended_on__lte=anchored_by)
        return self.anchor_rows(breached, anchor="ended_on", unscheduled_for=unscheduled_for)

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


class _InstallmentReminder(ReminderSource):
    """An installment of an agreement in force that is not yet paid (payments on the case since
    signing have not reached its running total, as the breach rule counts them), on the
    counterparty's channels. Not for a case under write-off examination: its case is then out of
    `agreement`."""

    subject = "installment"
    kind: str

    def _unpaid(self):
        return Installment.objects.filter(
            agreement__state=AgreementState.IN_FORCE,
            agreement__case__state=CaseState.AGREEMENT,
            cumulative__gt=F("agreement__case__paid_total") - F("agreement__paid_before"),
        )

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        unpaid = self._unpaid()
        if subject_ids is not None:
            unpaid = unpaid.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            unpaid = unpaid.filter(due_on__lte=anchored_by)
        return self.anchor_rows(
            unpaid, anchor="due_on", case="agreement__case_id", unscheduled_for=unscheduled_for
        )

    def still_due(self, subject_ids):
        return set(self._unpaid().filter(pk__in=list(subject_ids)).values_list("pk", flat=True))

    def messages(self, reminders):
        installments = Installment.objects.select_related("agreement__counterparty").in_bulk(
            [r.subject_id for r in reminders]
        )
        parties = {i.agreement.counterparty for i in installments.values()}
        channels = unit_channels({p.unit_id for p in parties if p.unit_id})
        outgoing = []
        for reminder in reminders:
            installment = installments[reminder.subject_id]
            agreement = installment.agreement
            party = agreement.counterparty
            context = {
                "unit_name": party.display_name,
                "installment_no": str(installment.seq),
                "agreement_no": agreement.number,
                "amount": str(installment.amount),
                "due_date": installment.due_on.isoformat(),
                "agency_name": settings.AGENCY_NAME,
                "agency_contact": settings.AGENCY_CONTACT,
            }
            outgoing += [
                Outgoing(
                    dedupe_key=f"reminder:{reminder.pk}:{channel}",
                    kind=self.kind,
                    channel=channel,
                    context=context,
                    unit_id=party.unit_id,
                    address=address,
                    case_id=agreement.case_id,
                )
                for channel, address in channels.get(party.unit_id, [])
            ]
        return outgoing


class InstallmentDueSoon(_InstallmentReminder):
    rule = "installment_due_7"
    kind = Kind.INSTALLMENT_DUE


class InstallmentDueTomorrow(_InstallmentReminder):
    rule = "installment_due_1"
    kind = Kind.INSTALLMENT_DUE


class InstallmentOverdue(_InstallmentReminder):
    rule = "installment_overdue"
    kind = Kind.INSTALLMENT_OVERDUE


def register_sources() -> None:
    register(InstallmentDueSoon())
    register(InstallmentDueTomorrow())
    register(InstallmentOverdue())
    register(WriteOffWaiting())
    register(ArrivalUnmatched())
    register(WriteOffReturned())
    register(AgreementBreached())
