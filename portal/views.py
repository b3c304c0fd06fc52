"""The unit portal: server-rendered pages for a unit's users (and a counterparty's).

Every page is for a signed-in portal member and reads through `portal.selectors`, which scope
each query to the member's unit (or counterparty): another unit's object is not found (404).
Writes go through the services, which check the member again.
"""

from datetime import date
from functools import wraps
from pathlib import Path

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.forms import form_errors_add
from kernel.money import round_fen
from notices.case_documents import agreement_document
from notices.documents import (
    html_render,
    notice_documents,
    notice_pdf_bytes,
    payee,
    pdf_render,
    pdf_response,
)
from notices.messages import message_render
from notices.models import CURRENT_NOTICE_STATES, Notice
from notices.sending import notification_read
from notices.services import notice_acknowledge
from portal import dues, selectors
from portal.forms import PaymentDeclareForm, WriteOffApplyForm
from portal.services import payment_declare
from replenish.models.cases import CLOSED_STATES
from replenish.selectors import ZERO
from replenish.services.writeoff import writeoff_submit
from units.portal import membership_of


def member_required(unit_only: bool = True):
    """The page is for a signed-in portal member; `unit_only` pages are not a counterparty's."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return HttpResponseRedirect(
                    f"{reverse('portal:login')}?next={request.get_full_path()}"
                )
            member = membership_of(request.user)
            if member is None or (unit_only and member.unit_id is None):
                raise Http404
            request.member = member
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _today() -> date:
    return timezone.localdate()


@member_required(unit_only=False)
def home(request):
    """What the unit owes today and what to do: pay (the number to quote, the account), declare
    a payment, read the notice; the detail below, folded."""
    member = request.member
    if member.unit_id is None:
        return HttpResponseRedirect(reverse("portal:agreements"))
    today = _today()
    debt = dues.owed(member, today)
    to_pay = dues.dues(member, today, debt)
    return render(
        request,
        "portal/home.html",
        {
            "unit": member.unit,
            "today": today,
            "principal": debt.principal,
            "late_fee": debt.late_fee,
            "total": debt.total,
            "fee_per_day": debt.fee_per_day(today),
            "dues": to_pay,
            "first": to_pay[0] if to_pay else None,
            "payee": payee(),
            "cases": sorted(debt.by_case.items()),
            "rows": debt.rows,
        },
    )


@member_required()
def employees(request):
    """Each employee's months still owed and those no longer owed (paid: the employee's record is
    restored; or written off), ID numbers masked."""
    today = _today()
    people: dict[tuple[str, str], dict] = {}

    def person_of(row: dict) -> dict:
        return people.setdefault(
            (row["person"], row["id_number"]),
            {
                "name": row["person"],
                "id_number": row["id_number"],
                "months": [],
                "total": ZERO,
                "settled": [],
            },
        )

    for row in selectors.lines_owed(request.member, today):
        person = person_of(row)
        person["months"].append(row)
        person["total"] += row["total"]
    for row in selectors.settled_months(request.member):
        person_of(row)["settled"].append(row["month"])
    return render(
        request,
        "portal/employees.html",
        {"unit": request.member.unit, "today": today, "people": list(people.values())},
    )


def _is_current(notice: Notice) -> bool:
    """The notice is in force and its case can still be paid."""
    return notice.state in CURRENT_NOTICE_STATES and notice.case.state in dues.PAYABLE_CASE_STATES


def _notice_rows(member, notices, today):
    """Each notice with what its case owes today and whether its deadline has passed."""
    debt = dues.owed(member, today)
    for notice in notices:
        notice.is_current = _is_current(notice)
        notice.under_agreement = (
            notice.state in CURRENT_NOTICE_STATES and notice.case.state == "agreement"
        )
        notice.owed_today = debt.of_case(notice.case.case_no) if notice.is_current else None
        notice.is_overdue = bool(
            notice.is_current and notice.deadline and notice.deadline < today and notice.owed_today
        )
        notice.days_overdue = (today - notice.deadline).days if notice.is_overdue else 0
    return debt


@member_required()
def notice_list(request):
    today = _today()
    notices = list(selectors.notices(request.member).order_by("-issued_on", "-pk"))
    _notice_rows(request.member, notices, today)
    return render(
        request,
        "portal/notices.html",
        {"unit": request.member.unit, "notices": notices, "today": today},
    )


@member_required()
def notice_detail(request, pk: int):
    today = _today()
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    debt = _notice_rows(request.member, [notice], today)
    fee_per_day = (
        round_fen(
            sum(
                (
                    r["principal"]
                    for r in debt.rows
                    if r["accruing"] and r["case_id"] == notice.case_id
                ),
                ZERO,
            )
            * dues.daily_rate(today)
        )
        if _is_current(notice)
        else ZERO
    )
    return render(
        request,
        "portal/notice.html",
        {
            "unit": request.member.unit,
            "notice": notice,
            "today": today,
            "fee_per_day": fee_per_day,
            "declare_url": f"{reverse('portal:declare')}?notice={notice.pk}",
        },
    )


@member_required()
def notice_document_html(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    # The reading page is the notice and its receipt as printed, with a link back to the portal.
    return HttpResponse(
        html_render(
            *notice_documents(notice, language=get_language()),
            back_url=reverse("portal:notice", args=[notice.pk]),
            back_label=_("Back to the notice"),
        )
    )


@member_required()
def notice_pdf(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    response = HttpResponse(
        notice_pdf_bytes(notice, language=get_language()), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{notice.number}.pdf"'
    return response


@require_POST
@member_required()
def notice_ack(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    try:
        with transaction.atomic():
            notice_acknowledge(notice_id=notice.pk, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        notice.refresh_from_db(fields=["acknowledged_at", "acknowledged_by"])
        messages.success(
            request,
            _("Notice %(number)s acknowledged on %(at)s by %(by)s.")
            % {
                "number": notice.number,
                "at": timezone.localtime(notice.acknowledged_at).strftime("%Y-%m-%d %H:%M"),
                "by": notice.acknowledged_by,
            },
        )
    return HttpResponseRedirect(reverse("portal:notice", args=[notice.pk]))


def _next_due(rows: list[dues.InstallmentRow]) -> dues.InstallmentRow | None:
    return next((r for r in rows if r.status != "paid"), None)


def _with_installments(agreements, today) -> dict[int, list[dues.InstallmentRow]]:
    """Each agreement with its installments (`rows`), the next one due and what remains; the
    installments of each agreement by its pk."""
    rows = dues.installment_rows(agreements, today)
    for agreement in agreements:
        agreement.rows = rows.get(agreement.pk, [])
        agreement.next_due = _next_due(agreement.rows)
        agreement.remaining = sum((r.remaining for r in agreement.rows), ZERO)
    return rows


@member_required(unit_only=False)
def agreement_list(request):
    today = _today()
    agreements = list(selectors.agreements(request.member))
    _with_installments(agreements, today)
    return render(
        request,
        "portal/agreements.html",
        {"member": request.member, "agreements": agreements, "today": today},
    )


@member_required(unit_only=False)
def agreement_detail(request, pk: int):
    agreement = get_object_or_404(selectors.agreements(request.member), pk=pk)
    today = _today()
    installments = _with_installments([agreement], today).get(agreement.pk, [])
    return render(
        request,
        "portal/agreement.html",
        {
            "member": request.member,
            "agreement": agreement,
            "installments": installments,
            "next_due": _next_due(installments),
            "today": today,
        },
    )


@member_required(unit_only=False)
def agreement_pdf(request, pk: int):
    """The signed agreement as printed, for the member's own agreements only (404 otherwise)."""
    agreement = get_object_or_404(
        selectors.agreements(request.member).select_related(
            "case__unit", "case__predecessor", "counterparty__unit", "counterparty__event"
        ),
        pk=pk,
    )
    return pdf_response(
        pdf_render(agreement_document(agreement, language=get_language())),
        f"{agreement.number}.pdf",
        attachment=True,
    )


@member_required(unit_only=False)
def agreement_scan(request, pk: int):
    """The scan of the signed agreement staff uploaded, for the member's own agreements only."""
    agreement = get_object_or_404(selectors.agreements(request.member), pk=pk)
    if not agreement.scan:
        raise Http404
    suffix = Path(agreement.scan.name).suffix.lower()
    return FileResponse(
        agreement.scan.open("rb"),
        as_attachment=True,
        filename=f"{agreement.number}-signed{suffix}",
    )


@member_required()
def payment_list(request):
    member = request.member
    payments = list(selectors.payments(member).order_by("-recorded_at", "-pk"))
    reasons = dues.rejection_reasons(p.pk for p in payments if p.state == "rejected")
    for payment in payments:
        payment.rejection_reason = reasons.get(payment.pk, "")
    return render(
        request,
        "portal/payments.html",
        {
            "unit": member.unit,
            "payments": payments,
            "arrivals": selectors.arrivals(member),
        },
    )


@member_required()
def declare(request):
    member = request.member
    today = _today()
    prefill = _declare_prefill(member, request.GET, today)
    form = PaymentDeclareForm(
        request.POST or None,
        request.FILES or None,
        case_choices=_case_choices(member),
        initial={"paid_on": today, **(prefill or {})},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                payment = payment_declare(
                    case_id=int(data["case"]),
                    amount=data["amount"],
                    channel=data["channel"],
                    paid_on=data["paid_on"],
                    reference=data["reference"],
                    channel_ref=data["channel_ref"],
                    proof=data.get("proof"),
                    actor=request.user,
                    declaration_key=data["declaration_key"],
                    overpayment_confirmed=data["confirm_overpayment"],
                )
        except ValidationError as exc:
            if _asks_to_confirm(exc):
                form.ask_to_confirm_overpayment()
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                _("Payment of %(amount)s declared; the collection department will check it.")
                % {"amount": payment.amount},
            )
            return HttpResponseRedirect(reverse("portal:payments"))
    return render(
        request, "portal/declare.html", {"unit": member.unit, "form": form, "prefill": prefill}
    )


def _case_choices(member) -> list[tuple[int, str]]:
    """The unit's open cases, each named with the number it was notified or agreed under."""
    cases = list(
        selectors.cases(member).exclude(state__in=CLOSED_STATES).order_by("case_no")
        .values_list("pk", "case_no")
    )  # fmt: skip
    numbers: dict[int, list[str]] = {}
    for case_id, number in dues.current_notices(member).values_list("case_id", "number"):
        numbers.setdefault(case_id, []).append(number)
    for case_id, number in (
        selectors.agreements(member).filter(state="in_force").values_list("case_id", "number")
    ):
        numbers.setdefault(case_id, []).append(number)
    return [
        (pk, f"{case_no}（{'、'.join(numbers[pk])}）" if pk in numbers else case_no)
        for pk, case_no in cases
    ]


def _declare_prefill(member, query, today) -> dict | None:
    """The case, number to quote and amount of the notice (?notice=) or installment
    (?installment=) the unit came from; nothing for one that is not the member's."""
    try:
        notice_id = int(query.get("notice", ""))
    except ValueError:
        notice_id = None
    try:
        installment_id = int(query.get("installment", ""))
    except ValueError:
        installment_id = None
    if notice_id:
        notice = dues.current_notices(member).filter(pk=notice_id).first()
        if notice is None:
            return None
        amount = dues.owed(member, today).of_case(notice.case.case_no)
        return {"case": notice.case_id, "reference": notice.number, "amount": amount}
    if installment_id:
        agreement = selectors.agreements(member).filter(installments__pk=installment_id).first()
        if agreement is None:
            return None
        rows = dues.installment_rows([agreement], today)[agreement.pk]
        row = next(r for r in rows if r.installment.pk == installment_id)
        return {"case": agreement.case_id, "reference": agreement.number, "amount": row.remaining}
    return None


def _asks_to_confirm(exc: ValidationError) -> bool:
    errors = exc.error_dict.get("amount", []) if hasattr(exc, "error_dict") else []
    return any(e.code == "overpayment" for e in errors)


@member_required()
def inbox(request):
    rows = [
        (message, _subject(message)) for message in selectors.inbox(request.member)[:INBOX_SIZE]
    ]
    return render(request, "portal/inbox.html", {"unit": request.member.unit, "rows": rows})


INBOX_SIZE = 200


def _subject(message) -> str:
    return message_render(
        message.kind, message.context, channel=message.channel, language=get_language()
    ).subject


@member_required()
def inbox_message(request, pk: int):
    """Opening a message marks it read; opening a notice's message delivers the notice."""
    message = get_object_or_404(selectors.inbox(request.member), pk=pk)
    if message.read_at is None:
        notification_read(notification_id=message.pk, actor=request.user)
        message.refresh_from_db(fields=["read_at"])
    rendered = message_render(
        message.kind, message.context, channel=message.channel, language=get_language()
    )
    return render(
        request,
        "portal/message.html",
        {"unit": request.member.unit, "message": message, "rendered": rendered},
    )


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return reverse("portal:home")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "portal/password_change_done.html"


@member_required(unit_only=False)
def writeoff_apply(request):
    """A liquidation group applies to write off what the bankrupt unit cannot pay (step 4): the
    application goes to the collection department's queue to examine."""
    member = request.member
    case_choices = list(
        selectors.writeoff_cases(member).order_by("case_no").values_list("pk", "case_no")
    )
    if member.counterparty_id is None:
        raise Http404
    form = WriteOffApplyForm(request.POST or None, request.FILES or None, case_choices=case_choices)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                application = writeoff_submit(
                    case_id=form.cleaned_data["case"],
                    documents=form.uploads(),
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Write-off application %(number)s filed; the collection department will "
                    "examine it."
                )
                % {"number": application.writeoff_no},
            )
            return HttpResponseRedirect(reverse("portal:agreements"))
    return render(
        request,
        "portal/writeoff_apply.html",
        {"form": form, "counterparty": member.counterparty, "has_cases": bool(case_choices)},
    )
