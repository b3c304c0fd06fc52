"""The reminder of enforcement (notices.reminders): the three months to apply to the court
(Administrative Enforcement Law Art. 53) are closing on a dossier that has not applied; to the
collection department, 30 days before by default (the rule's days, which staff change in
"Reminder rules"). Its rule row is made by enforcement migration 0003; the rule, the
message and the source are registered from `EnforcementConfig.ready()`."""

from django.utils.translation import gettext_lazy

from enforcement.models import Dossier, DossierState
from notices.messages import TEMPLATES, Template
from notices.models import Department
from notices.outbox import Outgoing
from notices.reminders import BEFORE, RULES, ReminderSource, RuleSpec, register

RULE = "court_window_closing"
KIND = "court_window_closing"
# The court route is still open and not yet taken in these states.
NOT_AT_COURT = (
    DossierState.DEMAND_SERVED,
    DossierState.INQUIRY_SENT,
    DossierState.INQUIRY_ANSWERED,
    DossierState.TRANSFER_PROPOSED,
    DossierState.TRANSFER_REQUESTED,
    DossierState.TRANSFER_GRANTED,
    DossierState.TRANSFER_NOTIFIED,
    DossierState.GUARANTEE_REQUIRED,
    DossierState.GUARANTEE_LAPSED,
    DossierState.COURT_PROPOSED,
)

SPEC = RuleSpec(
    RULE,
    30,
    BEFORE,
    gettext_lazy("Court application window closing: days before it closes"),
    gettext_lazy("the collection department"),
)
MESSAGE = Template(
    subject=gettext_lazy("Dossier %(dossier_no)s: apply to the court by %(closes)s"),
    body=gettext_lazy(
        "The time to apply to the people's court for compulsory enforcement of case "
        "%(case_no)s (%(unit_name)s, %(amount)s yuan owed when the dossier was opened) ends on "
        "%(closes)s (Administrative Enforcement Law Art. 53). Dossier %(dossier_no)s is "
        "%(state)s. After that day the court will not accept the application."
    ),
    sms=gettext_lazy("Dossier %(dossier_no)s: apply to the court by %(closes)s."),
)


class CourtWindowClosing(ReminderSource):
    rule = RULE
    subject = "dossier"

    def anchors(self, *, subject_ids=None, anchored_by=None, unscheduled_for=None):
        dossiers = Dossier.objects.filter(state__in=NOT_AT_COURT, court_window_closes__isnull=False)
        if subject_ids is not None:
            dossiers = dossiers.filter(pk__in=list(subject_ids))
        if anchored_by is not None:
            dossiers = dossiers.filter(court_window_closes__lte=anchored_by)
        return self.anchor_rows(
            dossiers, anchor="court_window_closes", unscheduled_for=unscheduled_for
        )

    def still_due(self, subject_ids):
        return set(
            Dossier.objects.filter(pk__in=list(subject_ids), state__in=NOT_AT_COURT).values_list(
                "pk", flat=True
            )
        )

    def messages(self, reminders):
        dossiers = Dossier.objects.select_related("case__unit", "notice").in_bulk(
            [r.subject_id for r in reminders]
        )
        outgoing = []
        for reminder in reminders:
            dossier = dossiers[reminder.subject_id]
            context = {
                "dossier_no": dossier.dossier_no,
                "case_no": dossier.case.case_no,
                "unit_name": dossier.case.unit.name,
                "amount": str(dossier.notice.total),
                "closes": dossier.court_window_closes.isoformat(),
                "state": str(dossier.get_state_display()),
            }
            outgoing.append(
                Outgoing(
                    dedupe_key=f"reminder:{reminder.pk}:department:{Department.COLLECTION}",
                    kind=KIND,
                    channel="email",
                    context=context,
                    department=Department.COLLECTION,
                    case_id=dossier.case_id,
                )
            )
        return outgoing


def register_sources() -> None:
    RULES.setdefault(RULE, SPEC)
    TEMPLATES.setdefault(KIND, MESSAGE)
    register(CourtWindowClosing())
