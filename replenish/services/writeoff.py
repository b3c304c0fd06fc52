"""Write-off (核销, workflow step 4).

The liquidation group of a bankrupt unit applies with its five documents (recorded by the
collection department on its behalf now; the portal will call `writeoff_submit` with the portal
user later). Collection examines it: accepts it when all five documents are there, or returns it
with a reason; the group resubmits. Audit approves or rejects with a reason; the approver may not
be the person who accepted it, and above `WRITEOFF_DUAL_APPROVAL_ABOVE` two different approvers
are needed. Approval fixes the amount; the adjustment (`writeoff_post`, called by
`adjustments_post`) posts it as `written_off` ledger entries and closes the case.

The case is in `writeoff` from submission until the write-off is posted or rejected (a returned
application keeps it there: the group is completing its documents). A rejection returns the case
to the state it came from.

Lock order: case, then its lines, then the application.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_fsm import can_proceed

from kernel.actors import Actor, System, actor_label, actor_user, require_permission
from kernel.uploads import document_check, removed_on_failure
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    CaseState,
    LedgerKind,
    WriteOffApplication,
    WriteOffDocument,
    WriteOffDocumentKind,
    WriteOffState,
)
from replenish.reasons import Reason
from replenish.selectors import ZERO, unit_has_another_registered_case
from replenish.services.agreements import live_agreements_end
from replenish.services.ledger import Posting, ledger_post, lines_fee_fix
from replenish.services.numbering import writeoff_number_take
from replenish.services.transitions import audit_record, transition_apply
from units.models import DOCUMENT_EXTENSIONS, CounterpartyKind
from units.portal import membership_of

REQUIRED_DOCUMENTS = tuple(WriteOffDocumentKind.values)


@dataclass(frozen=True)
class Upload:
    """One document of an application: its kind and the uploaded file."""

    kind: str
    file: "File[Any]"


def portal_may_apply(actor: Actor, counterparty_id: int) -> bool:
    """Whether a portal user acts for this liquidation group (its portal membership)."""
    member = membership_of(actor)
    return member is not None and member.counterparty_id == counterparty_id


def _require_applicant(actor: Actor, counterparty_id: int) -> None:
    if isinstance(actor, System) or portal_may_apply(actor, counterparty_id):
        return
    require_permission(
        actor, "replenish.add_writeoffapplication", action=_("record a write-off application")
    )


def _case_actor(actor: Actor) -> Actor:
    """Who moves the case into `writeoff`: the staff member, or for a portal user (who has no
    staff permission) the portal acting under the workflow's rules, labelled with the user."""
    if isinstance(actor, System) or actor.has_perm("replenish.examine_writeoff"):
        return actor
    return System(f"portal:{actor.get_username()}")


def _uploads_checked(uploads: Sequence[Upload]) -> None:
    errors = [
        _("Document %(n)s: %(kind)s is not a kind of write-off document.")
        % {"n": n, "kind": u.kind}
        for n, u in enumerate(uploads, start=1)
        if u.kind not in REQUIRED_DOCUMENTS
    ]
    for upload in uploads:
        # Type (by name and content) and size, before anything is stored.
        try:
            document_check(upload.file, extensions=DOCUMENT_EXTENSIONS)
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ValidationError(errors)


def _documents_add(
    application: WriteOffApplication,
    uploads: Sequence[Upload],
    actor: Actor,
    stored: list[FieldFile],
) -> None:
    for upload in uploads:
        document = WriteOffDocument(
            application=application, kind=upload.kind, uploaded_by=actor_label(actor)
        )
        document.file.save(upload.file.name, upload.file, save=False)
        stored.append(document.file)
        document.full_clean(exclude=["application"])
        document.save()


def missing_documents(application: WriteOffApplication) -> list[str]:
    present = set(application.documents.values_list("kind", flat=True))
    return [kind for kind in REQUIRED_DOCUMENTS if kind not in present]


def _missing_labels(kinds: list[str]) -> str:
    separator = pgettext("between the names of missing documents", "; ")
    return separator.join(str(WriteOffDocumentKind(kind).label) for kind in kinds)


def _locked_application(application_id: int) -> tuple[ArrearsCase, WriteOffApplication]:
    case_id = WriteOffApplication.objects.values_list("case_id", flat=True).get(pk=application_id)
    case = ArrearsCase.objects.select_for_update().get(pk=case_id)
    application = WriteOffApplication.objects.select_for_update().get(pk=application_id)
    return case, application


def writeoff_submit(
    *, case_id: int, documents: Sequence[Upload], actor: Actor, note: str = ""
) -> WriteOffApplication:
    """The liquidation group owing the case applies to write off what it cannot pay."""
    _uploads_checked(documents)
    with transaction.atomic(), removed_on_failure() as stored:
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("obligor")
            .get(pk=case_id)
        )
        group = case.obligor
        if group is None or group.kind != CounterpartyKind.LIQUIDATION_GROUP:
            raise ValidationError(
                _(
                    "Case %(case)s is not owed by a liquidation group: only the liquidation group "
                    "of a bankrupt unit applies for a write-off."
                )
                % {"case": case.case_no}
            )
        _require_applicant(actor, group.pk)
        year = timezone.localdate().year
        writeoff_no = writeoff_number_take(year)
        # The case first: its state says whether an application may be made at all.
        transition_apply(
            case,
            "writeoff_submit",
            actor=_case_actor(actor),
            reason=Reason("writeoff_applied", writeoff=writeoff_no, group=group.display_name),
        )
        application: WriteOffApplication = WriteOffApplication.objects.create(
            writeoff_no=writeoff_no,
            case=case,
            applicant=group,
            submitted_by=actor_label(actor),
            note=note.strip(),
        )
        _documents_add(application, documents, actor, stored)
        audit_record(application, "submit", actor=actor, reason=note.strip())
    return application


def writeoff_resubmit(
    *, application_id: int, documents: Sequence[Upload], actor: Actor, note: str = ""
) -> WriteOffApplication:
    """The liquidation group completes a returned application and submits it again."""
    _uploads_checked(documents)
    with transaction.atomic(), removed_on_failure() as stored:
        _case, application = _locked_application(application_id)
        _require_applicant(actor, application.applicant_id)
        _documents_add(application, documents, actor, stored)
        transition_apply(application, "resubmit", actor=actor, reason=note.strip())
    return application


def writeoff_accept(*, application_id: int, actor: Actor) -> WriteOffApplication:
    """Collection examined the application and sends it to audit: all five documents needed."""
    require_permission(
        actor, "replenish.examine_writeoff", action=_("examine a write-off application")
    )
    with transaction.atomic():
        _case, application = _locked_application(application_id)
        missing = missing_documents(application)
        if missing:
            raise ValidationError(
                _("Write-off %(no)s cannot be accepted: missing %(missing)s.")
                % {"no": application.writeoff_no, "missing": _missing_labels(missing)}
            )
        transition_apply(application, "accept", actor=actor)
        application.accepted_by = actor_user(actor)
        application.accepted_at = timezone.now()
        application.save(update_fields=["accepted_by", "accepted_at"])
    return application


def writeoff_return(*, application_id: int, reason: str, actor: Actor) -> WriteOffApplication:
    """Collection returns the application to the liquidation group for missing documents."""
    require_permission(
        actor, "replenish.examine_writeoff", action=_("examine a write-off application")
    )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say which documents are missing.")})
    with transaction.atomic():
        _case, application = _locked_application(application_id)
        transition_apply(application, "return_for_documents", actor=actor, reason=reason)
        application.return_reason = reason
        application.save(update_fields=["return_reason"])
    return application


def writeoff_withdraw(
    *, application_id: int, actor: Actor, reason: str = ""
) -> WriteOffApplication:
    """A returned application is withdrawn — by the liquidation group (portal) or by collection
    for it — and the case returns to the state it came from (overdue instead of registered when
    the unit has another registered case by then), settled at once when money that arrived
    meanwhile paid everything. Without this a returned application would keep the case in
    `writeoff`, where reminders and breaches are off, for as long as nobody resubmits."""
    with transaction.atomic():
        case, application = _locked_application(application_id)
        if not (isinstance(actor, System) or portal_may_apply(actor, application.applicant_id)):
            require_permission(
                actor,
                "replenish.examine_writeoff",
                action=_("withdraw a write-off application"),
            )
        reason = reason.strip()
        transition_apply(application, "withdraw", actor=actor, reason=reason)
        number = application.writeoff_no
        why = (
            Reason("writeoff_withdrawn_because", writeoff=number, why=reason)
            if reason
            else Reason("writeoff_withdrawn", writeoff=number)
        )
        taken = unit_has_another_registered_case(case)
        if taken and case.state_before_writeoff == CaseState.REGISTERED:
            why = Reason("returns_as_overdue", why=why)
        transition_apply(
            case, "writeoff_withdraw", actor=_case_actor(actor), reason=why, registered_taken=taken
        )
        if can_proceed(case.settle):
            transition_apply(
                case,
                "settle",
                actor=_case_actor(actor),
                reason=Reason("writeoff_withdrawn_nothing_owed", writeoff=application.writeoff_no),
            )
    return application


def _require_decider(actor: Actor, application: WriteOffApplication) -> None:
    user = actor_user(actor)
    if user is None:
        raise PermissionDenied(_("Only a person in audit decides a write-off."))
    if application.accepted_by_id == user.pk:
        raise PermissionDenied(
            _(
                "%(user)s accepted write-off %(no)s and may not also decide it: another person "
                "in audit must."
            )
            % {"user": user.get_username(), "no": application.writeoff_no}
        )
    if application.first_approver_id == user.pk:
        message = _(
            "%(user)s already approved write-off %(no)s: "
            "the second approver must be another person."
        )
        raise PermissionDenied(
            message % {"user": user.get_username(), "no": application.writeoff_no}
        )


def writeoff_approve(
    *, application_id: int, actor: Actor, reason: str = "", today: date | None = None
) -> WriteOffApplication:
    """Audit approves. The amount — what the case owes as of today: principal and the late fee
    fixed up to the bankruptcy acceptance — is fixed here (the fee first, by `lines_fee_fix`).
    Above `WRITEOFF_DUAL_APPROVAL_ABOVE` the first approval waits for a second approver."""
    require_permission(actor, "replenish.decide_writeoff", action=_("decide a write-off"))
    today = today or timezone.localdate()
    with transaction.atomic():
        case, application = _locked_application(application_id)
        _require_decider(actor, application)
        if application.state not in (WriteOffState.ACCEPTED, WriteOffState.FIRST_APPROVED):
            # The declared transition says so too; checked first so nothing is fixed before.
            transition_apply(application, "approve", actor=actor, reason=reason)
        lines = list(ArrearsLine.objects.select_for_update().filter(case=case).order_by("pk"))
        lines_fee_fix(
            lines, on=today, actor=actor, source=f"writeoff:{application.pk}", reason=reason
        )
        principal = sum((ln.employer_unpaid + ln.employee_unpaid for ln in lines), ZERO)
        late_fee = sum((ln.fee_unpaid for ln in lines), ZERO)
        dual = principal + late_fee > settings.WRITEOFF_DUAL_APPROVAL_ABOVE
        if dual and application.state == WriteOffState.ACCEPTED:
            transition_apply(application, "approve_first", actor=actor, reason=reason)
            application.first_approver = actor_user(actor)
            application.save(update_fields=["first_approver"])
            return application
        transition_apply(application, "approve", actor=actor, reason=reason)
        application.approver = actor_user(actor)
        application.decided_on = today
        application.decision_reason = reason.strip()
        application.principal, application.late_fee = principal, late_fee
        application.save(
            update_fields=["approver", "decided_on", "decision_reason", "principal", "late_fee"]
        )
    return application


def writeoff_reject(
    *, application_id: int, reason: str, actor: Actor, today: date | None = None
) -> WriteOffApplication:
    """Audit rejects with a reason: the case returns to the state it came from (overdue instead
    of registered when the unit has another registered case by then), and is settled at once
    when money that arrived meanwhile paid everything it owed."""
    require_permission(actor, "replenish.decide_writeoff", action=_("decide a write-off"))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    with transaction.atomic():
        case, application = _locked_application(application_id)
        _require_decider(actor, application)
        transition_apply(application, "reject", actor=actor, reason=reason)
        application.decided_on = today or timezone.localdate()
        application.decision_reason = reason
        application.save(update_fields=["decided_on", "decision_reason"])
        taken = unit_has_another_registered_case(case)
        returns_overdue = taken and case.state_before_writeoff == CaseState.REGISTERED
        why = Reason(
            "writeoff_rejected_overdue" if returns_overdue else "writeoff_rejected",
            writeoff=application.writeoff_no,
            why=reason,
        )
        transition_apply(case, "writeoff_reject", actor=actor, reason=why, registered_taken=taken)
        if can_proceed(case.settle):
            # Money that arrived during the examination paid everything (a case in `writeoff`
            # is not settled by the adjustment): it is settled now.
            transition_apply(
                case,
                "settle",
                actor=actor,
                reason=Reason("writeoff_rejected_nothing_owed", writeoff=application.writeoff_no),
            )
    return application


@dataclass(frozen=True)
class PostedWriteOff:
    writeoff_no: str
    case_no: str
    principal: Decimal
    late_fee: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.late_fee

    def __str__(self) -> str:
        return _(
            "%(writeoff)s %(case)s: %(amount)s written off (%(principal)s principal, "
            "%(fee)s late fee)"
        ) % {
            "writeoff": self.writeoff_no,
            "case": self.case_no,
            "amount": self.amount,
            "principal": self.principal,
            "fee": self.late_fee,
        }


def writeoff_post(*, application_id: int, actor: Actor) -> PostedWriteOff | None:
    """Post an approved write-off: what its case's lines still owe (the approved amount, less any
    money that arrived since) as `written_off` entries, then the case is `written_off`.

    Idempotent: an application already posted posts nothing (returns None). The case's move to
    `written_off` is audit's decision, so it is recorded with the approver as its actor.
    """
    require_permission(actor, "replenish.post_arrival", action=_("post the adjustments"))
    with transaction.atomic():
        case, application = _locked_application(application_id)
        if application.state != WriteOffState.APPROVED:
            return None
        decided_on, approver = application.decided_on, application.approver
        if decided_on is None or approver is None:
            raise RuntimeError(f"write-off {application.writeoff_no} is approved undecided")
        lines = list(ArrearsLine.objects.select_for_update().filter(case=case).order_by("pk"))
        source = f"writeoff:{application.pk}"
        # Nothing accrues after approval on a bankrupt unit's lines; fix anything that did.
        lines_fee_fix(lines, on=decided_on, actor=actor, source=source)
        why = Reason("writeoff_of", writeoff=application.writeoff_no)
        postings = [
            Posting(
                case_id=case.pk,
                line_id=line.pk,
                kind=LedgerKind.WRITTEN_OFF,
                effective_on=decided_on,
                source=source,
                employer=-line.employer_unpaid,
                employee=-line.employee_unpaid,
                late_fee=-line.fee_unpaid,
                reason=why,
            )
            for line in lines
        ]
        ledger_post(postings, actor=actor)
        transition_apply(application, "post", actor=actor)
        application.posted_at = timezone.now()
        application.save(update_fields=["posted_at"])
        transition_apply(
            case,
            "writeoff_approve",
            actor=approver,
            reason=Reason(
                "writeoff_posted", writeoff=application.writeoff_no, actor=actor_label(actor)
            ),
        )
        # A liquidation agreement still live with the case ends with its debt: nothing is left
        # to pay by installments (the case is already written off, so it does not follow).
        live_agreements_end(
            case,
            on=decided_on,
            actor=actor,
            reason=Reason("agreement_ended_by_writeoff", writeoff=application.writeoff_no),
            case_follows=False,
        )
    return PostedWriteOff(
        writeoff_no=application.writeoff_no,
        case_no=case.case_no,
        principal=-sum((p.employer + p.employee for p in postings), ZERO),
        late_fee=-sum((p.late_fee for p in postings), ZERO),
    )


def writeoffs_post(*, actor: Actor) -> list[PostedWriteOff]:
    """Post every approved write-off (the adjustment run)."""
    require_permission(actor, "replenish.post_arrival", action=_("post the adjustments"))
    ids = list(
        WriteOffApplication.objects.filter(state=WriteOffState.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    posted = [writeoff_post(application_id=pk, actor=actor) for pk in ids]
    return [p for p in posted if p is not None]
