"""The unit portal: server-rendered pages for a unit's users (and a counterparty's).

Every page is for a signed-in portal member and reads through `portal.selectors`, which scope
each query to the member's unit (or counterparty): another unit's object is not found (404).
Writes go through the services, which check the member again.
"""

from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notices.documents import html_render, notice_document, pdf_render
from notices.messages import message_render
from notices.sending import notification_read
from notices.services import notice_acknowledge
from portal import selectors
from portal.forms import PaymentDeclareForm, WriteOffApplyForm
from portal.services import payment_declare
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
    member = request.member
    if member.unit_id is None:
        return HttpResponseRedirect(reverse("portal:agreements"))
    today = _today()
    rows = selectors.lines_owed(member, today)
    by_case: dict[str, dict] = {}
    for row in rows:
        case = by_case.setdefault(
            row["line"].case.case_no, {"principal": ZERO, "late_fee": ZERO, "lines": 0}
        )
        case["principal"] += row["principal"]
        case["late_fee"] += row["late_fee"]
        case["lines"] += 1
    principal = sum((row["principal"] for row in rows), ZERO)
    late_fee = sum((row["late_fee"] for row in rows), ZERO)
    return render(
        request,
        "portal/home.html",
        {
            "unit": member.unit,
            "today": today,
            "principal": principal,
            "late_fee": late_fee,
            "total": principal + late_fee,
            "cases": sorted(by_case.items()),
            "rows": rows,
        },
    )


@member_required()
def employees(request):
    """Unpaid months of each employee, ID numbers masked."""
    today = _today()
    people: dict[int, dict] = {}
    for row in selectors.lines_owed(request.member, today):
        person = people.setdefault(
            row["line"].person_id,
            {"name": row["person"], "id_number": row["id_number"], "months": [], "total": ZERO},
        )
        person["months"].append(row)
        person["total"] += row["total"]
    return render(
        request,
        "portal/employees.html",
        {"unit": request.member.unit, "today": today, "people": list(people.values())},
    )


@member_required()
def notice_list(request):
    notices = selectors.notices(request.member).order_by("-issued_on", "-pk")
    return render(request, "portal/notices.html", {"unit": request.member.unit, "notices": notices})


@member_required()
def notice_detail(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    return render(request, "portal/notice.html", {"unit": request.member.unit, "notice": notice})


@member_required()
def notice_document_html(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    return HttpResponse(html_render(notice_document(notice)))


@member_required()
def notice_pdf(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    response = HttpResponse(pdf_render(notice_document(notice)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{notice.number}.pdf"'
    return response


@require_POST
@member_required()
def notice_ack(request, pk: int):
    notice = get_object_or_404(selectors.notices(request.member), pk=pk)
    try:
        notice_acknowledge(notice_id=notice.pk, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Notice %(number)s acknowledged.") % {"number": notice.number})
    return HttpResponseRedirect(reverse("portal:notice", args=[notice.pk]))


@member_required(unit_only=False)
def agreement_list(request):
    agreements = list(selectors.agreements(request.member))
    schedule: dict[int, list] = {}
    for installment in selectors.installments(a.pk for a in agreements):
        schedule.setdefault(installment.agreement_id, []).append(installment)
    today = _today()
    for agreement in agreements:
        agreement.schedule = schedule.get(agreement.pk, [])
        agreement.next_due = next((i for i in agreement.schedule if i.due_on >= today), None)
    return render(
        request,
        "portal/agreements.html",
        {"member": request.member, "agreements": agreements, "today": today},
    )


@member_required(unit_only=False)
def agreement_detail(request, pk: int):
    agreement = get_object_or_404(selectors.agreements(request.member), pk=pk)
    installments = list(selectors.installments([agreement.pk]))
    today = _today()
    next_due = next((i for i in installments if i.due_on >= today), None)
    return render(
        request,
        "portal/agreement.html",
        {
            "member": request.member,
            "agreement": agreement,
            "installments": installments,
            "next_due": next_due,
        },
    )


@member_required()
def payment_list(request):
    member = request.member
    return render(
        request,
        "portal/payments.html",
        {
            "unit": member.unit,
            "payments": selectors.payments(member).order_by("-recorded_at", "-pk"),
            "arrivals": selectors.arrivals(member),
        },
    )


@member_required()
def declare(request):
    member = request.member
    case_choices = list(selectors.cases(member).order_by("case_no").values_list("pk", "case_no"))
    form = PaymentDeclareForm(
        request.POST or None, request.FILES or None, case_choices=case_choices
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
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
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Payment of %(amount)s declared; the collection department will check it.")
                % {"amount": payment.amount},
            )
            return HttpResponseRedirect(reverse("portal:payments"))
    return render(request, "portal/declare.html", {"unit": member.unit, "form": form})


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
        message.kind, message.context, channel=message.channel, language=message.language
    ).subject


@member_required()
def inbox_message(request, pk: int):
    """Opening a message marks it read; opening a notice's message delivers the notice."""
    message = get_object_or_404(selectors.inbox(request.member), pk=pk)
    if message.read_at is None:
        notification_read(notification_id=message.pk, actor=request.user)
        message.refresh_from_db(fields=["read_at"])
    rendered = message_render(
        message.kind, message.context, channel=message.channel, language=message.language
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
            application = writeoff_submit(
                case_id=form.cleaned_data["case"],
                documents=form.uploads(),
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
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
