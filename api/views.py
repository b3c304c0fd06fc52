"""The inquiry API: a unit's read-only view of its data (what the portal shows), and the finance
system's arrivals. Reads go through `portal.selectors` (scoped to the credential's unit), writes
through the services."""

import csv
import io

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.permissions import FinanceThrottle, IsFinanceSystem, IsUnitMember, UnitThrottle
from notices.messages import message_render
from portal import selectors
from replenish.models import Arrival, ArrivalState
from replenish.selectors import ZERO
from replenish.services.arrivals_import import COLUMNS, arrivals_import

PAGE = 200  # the newest rows of each list


class UnitView(APIView):
    permission_classes = [IsUnitMember]
    throttle_classes = [UnitThrottle]


def _with_schedule(agreements):
    agreements = list(agreements)
    schedule: dict[int, list] = {}
    for installment in selectors.installments(a.pk for a in agreements):
        schedule.setdefault(installment.agreement_id, []).append(installment)
    today = timezone.localdate()
    for agreement in agreements:
        agreement.schedule = schedule.get(agreement.pk, [])
        agreement.next_due = next((i for i in agreement.schedule if i.due_on >= today), None)
    return agreements


class BalanceView(UnitView):
    @extend_schema(responses=s.BalanceSerializer, summary="What the unit owes today, per line")
    def get(self, request):
        today = timezone.localdate()
        rows = selectors.lines_owed(request.member, today)
        principal = sum((r["principal"] for r in rows), ZERO)
        late_fee = sum((r["late_fee"] for r in rows), ZERO)
        data = {
            "as_of": today,
            "principal": principal,
            "late_fee": late_fee,
            "total": principal + late_fee,
            "lines": [
                {
                    "case_no": r["case_no"],
                    "period": r["period"],
                    "person": r["person"],
                    "id_number": r["id_number"],
                    "principal": r["principal"],
                    "late_fee": r["late_fee"],
                    "fee_runs_from": r["fee_runs_from"],
                }
                for r in rows
            ],
        }
        return Response(s.BalanceSerializer(data).data)


class NoticeListView(UnitView):
    @extend_schema(responses=s.NoticeSerializer(many=True), summary="The unit's notices")
    def get(self, request):
        notices = selectors.notices(request.member).order_by("-issued_on", "-pk")[:PAGE]
        return Response(s.NoticeSerializer(notices, many=True).data)


class NoticeDetailView(UnitView):
    @extend_schema(responses=s.NoticeSerializer, summary="One notice of the unit")
    def get(self, request, pk: int):
        notice = get_object_or_404(selectors.notices(request.member), pk=pk)
        return Response(s.NoticeSerializer(notice).data)


class AgreementListView(UnitView):
    @extend_schema(responses=s.AgreementSerializer(many=True), summary="The unit's agreements")
    def get(self, request):
        agreements = _with_schedule(selectors.agreements(request.member)[:PAGE])
        return Response(s.AgreementSerializer(agreements, many=True).data)


class AgreementDetailView(UnitView):
    @extend_schema(responses=s.AgreementSerializer, summary="One agreement with its schedule")
    def get(self, request, pk: int):
        agreement = get_object_or_404(selectors.agreements(request.member), pk=pk)
        return Response(s.AgreementSerializer(_with_schedule([agreement])[0]).data)


class PaymentListView(UnitView):
    @extend_schema(responses=s.PaymentSerializer(many=True), summary="The unit's payments")
    def get(self, request):
        payments = selectors.payments(request.member).order_by("-recorded_at", "-pk")[:PAGE]
        return Response(s.PaymentSerializer(payments, many=True).data)


class ArrivalListView(UnitView):
    @extend_schema(
        responses=s.ArrivalSerializer(many=True),
        summary="Money arrived for the unit and how it was applied",
    )
    def get(self, request):
        arrivals = selectors.arrivals(request.member)[:PAGE]
        return Response(s.ArrivalSerializer(arrivals, many=True).data)


class MessageListView(UnitView):
    @extend_schema(responses=s.MessageSerializer(many=True), summary="The unit's inbox")
    def get(self, request):
        rows = [
            {
                "id": m.pk,
                "kind": m.kind,
                "subject": message_render(
                    m.kind, m.context, channel=m.channel, language=m.language
                ).subject,
                "sent_at": m.sent_at,
                "read_at": m.read_at,
                "notice_id": m.notice_id,
            }
            for m in selectors.inbox(request.member)[:PAGE]
        ]
        return Response(s.MessageSerializer(rows, many=True).data)


class FinanceView(APIView):
    permission_classes = [IsFinanceSystem]
    throttle_classes = [FinanceThrottle]


def _arrival(arrival_ref: str) -> Arrival:
    return Arrival.objects.select_related("case").get(arrival_ref=arrival_ref)


class ArrivalPostView(FinanceView):
    @extend_schema(
        request=s.ArrivalInSerializer,
        responses={201: s.ArrivalResultSerializer, 200: s.ArrivalResultSerializer},
        summary="Post one arrival (idempotent on arrival_ref)",
        description=(
            "The fields, checks and matching of a row of the arrivals file. A replay of an "
            "arrival_ref already received writes nothing and returns the arrival as it is "
            "(200); the same arrival_ref with other values is refused (400)."
        ),
    )
    def post(self, request):
        given = s.ArrivalInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        row = {**data, "arrived_on": data["arrived_on"].isoformat(), "amount": str(data["amount"])}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerow([row[column] for column in COLUMNS])
        # The arrivals file's code path: the same checks, matching and idempotency.
        done = arrivals_import(
            file=io.BytesIO(out.getvalue().encode("utf-8")),
            file_name=f"api:{data['arrival_ref']}",
            actor=request.user,
        )
        # What the import did, not what was there before it: two posts at once of a new
        # reference both see none, and only one of them receives it.
        existed = done.received == 0
        result = {"replayed": existed, "arrival": _arrival(data["arrival_ref"])}
        return Response(
            s.ArrivalResultSerializer(result).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class UnmatchedArrivalsView(FinanceView):
    @extend_schema(
        responses=s.ArrivalSerializer(many=True), summary="Arrivals waiting to be matched"
    )
    def get(self, request):
        arrivals = (
            Arrival.objects.filter(state=ArrivalState.UNMATCHED)
            .select_related("case")
            .order_by("arrived_on", "pk")[:1000]
        )
        return Response(s.ArrivalSerializer(arrivals, many=True).data)


def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"detail": str(NotFound.default_detail), "errors": []}, status=404)
