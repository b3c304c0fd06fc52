"""Finance's decision on an unmatched arrival, with its facts: the money (amount, date, channel),
who paid it and what they quoted, and the cases it may pay, each with what it owes today, chosen
by a click. Candidates: the payer's open cases (as the unit or as whoever owes them now) and
cases whose notice or agreement number is close to the quoted reference (a digit mistyped)."""

from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.admin.shown import yuan
from notices.models import Notice
from replenish.labels import arrival_note_display
from replenish.models import OPEN_STATES, Agreement, ArrearsCase, Arrival, ArrivalState
from replenish.selectors import owed_by_case
from replenish.services.arrival import arrival_match
from units.models import Unit

# How close a number must be to the quoted reference, and how many such cases are offered.
CLOSE_RATIO = 0.8
MAX_CLOSE = 5


@dataclass(frozen=True)
class Candidate:
    case: ArrearsCase
    why: str
    owed: Decimal

    @property
    def owed_shown(self) -> str:
        return yuan(self.owed)


def _close_numbers(reference: str) -> list[tuple[int, str]]:
    """(case id, why) of the notices and agreements whose number is close to `reference`, of
    open cases: the numbers sharing its first characters, ranked by similarity."""
    if len(reference) < 6:
        return []
    prefix = reference[: max(4, len(reference) - 6)]
    found = []
    for model, label in ((Notice, _("notice %(number)s")), (Agreement, _("agreement %(number)s"))):
        rows = model.objects.filter(
            number__startswith=prefix, case__state__in=OPEN_STATES
        ).values_list("case_id", "number")[:200]
        for case_id, number in rows:
            ratio = SequenceMatcher(None, reference, number).ratio()
            if ratio >= CLOSE_RATIO:
                found.append((ratio, case_id, label % {"number": number}))
    found.sort(key=lambda item: -item[0])
    return [(case_id, why) for _ratio, case_id, why in found[:MAX_CLOSE]]


def candidates(arrival: Arrival, *, today) -> list[Candidate]:
    why: dict[int, list[str]] = {}
    payers = ArrearsCase.objects.filter(
        Q(unit__uscc=arrival.payer_uscc) | Q(obligor__uscc=arrival.payer_uscc),
        state__in=OPEN_STATES,
    ).values_list("pk", flat=True)
    for case_id in payers:
        why.setdefault(case_id, []).append(_("an open case of the payer"))
    for case_id, reason in _close_numbers(arrival.reference):
        why.setdefault(case_id, []).append(
            _("%(number)s is close to the quoted %(quoted)s")
            % {"number": reason, "quoted": arrival.reference}
        )
    cases = ArrearsCase.objects.filter(pk__in=list(why)).select_related("unit").order_by("case_no")
    owed = owed_by_case(list(why), as_of=today)
    return [
        Candidate(
            case=case,
            why="；".join(why[case.pk]),
            owed=owed[case.pk].total if case.pk in owed else Decimal("0.00"),
        )
        for case in cases
    ]


def resolve_view(modeladmin, request, pk: int):
    arrival = get_object_or_404(Arrival, pk=pk)
    if not request.user.has_perm("replenish.match_arrival"):
        modeladmin.message_user(
            request, _("Your department may not match arrivals to cases."), messages.ERROR
        )
        return redirect("admin:replenish_arrival_change", arrival.pk)
    today = timezone.localdate()
    if request.method == "POST":
        case = ArrearsCase.objects.filter(pk=request.POST.get("case")).first()
        if case is None:
            modeladmin.message_user(request, _("Choose one of the cases."), messages.ERROR)
        else:
            try:
                arrival_match(arrival_id=arrival.pk, case_id=case.pk, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                modeladmin.message_user(request, text, messages.ERROR)
            else:
                owed = owed_by_case([case.pk], as_of=today)
                modeladmin.message_user(
                    request,
                    _(
                        "Arrival %(ref)s of %(amount)s yuan matched to case %(case)s, which owes "
                        "%(owed)s yuan today; the next adjustment posts it."
                    )
                    % {
                        "ref": arrival.arrival_ref,
                        "amount": yuan(arrival.amount),
                        "case": case.case_no,
                        "owed": yuan(owed[case.pk].total if case.pk in owed else Decimal(0)),
                    },
                    messages.SUCCESS,
                )
                url = reverse("admin:replenish_arrival_changelist")
                return redirect(f"{url}?state__exact={ArrivalState.UNMATCHED}")
    payer = Unit.objects.filter(uscc=arrival.payer_uscc).first()
    return TemplateResponse(
        request,
        "admin/replenish/arrival/resolve.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": Arrival._meta,
            "original": arrival,
            "title": _("Which case did arrival %(ref)s pay?") % {"ref": arrival.arrival_ref},
            "arrival": arrival,
            "amount": yuan(arrival.amount),
            "payer": payer,
            "note": arrival_note_display(arrival.match_note),
            "candidates": candidates(arrival, today=today),
            "today": today,
            "matchable": arrival.state in (ArrivalState.UNMATCHED, ArrivalState.MATCHED),
        },
    )
