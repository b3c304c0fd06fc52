"""The unit's credit in the API (what the portal's credit page shows) and the finance system's
record of a refund paid out. Reads are scoped to the credential's unit; the write goes through
`refund_pay`, idempotent on the same payout reference."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.serializers import Money
from api.views import PAGE, FinanceView, UnitView
from replenish.models import CreditEntry, CreditKind, CreditRefund, RefundState
from replenish.services.credit import refund_pay, unit_credit, unit_credit_pending


class CreditEntrySerializer(serializers.Serializer):
    effective_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=CreditKind.values)
    amount = Money()
    case_no = serializers.CharField(source="case.case_no", allow_null=True, default=None)
    arrival_ref = serializers.CharField(source="arrival.arrival_ref", allow_null=True, default=None)
    refund_no = serializers.CharField(source="refund.refund_no", allow_null=True, default=None)


class RefundSerializer(serializers.Serializer):
    refund_no = serializers.CharField()
    amount = Money()
    account_name = serializers.CharField()
    account_bank = serializers.CharField()
    account_no = serializers.CharField()
    state = serializers.ChoiceField(choices=RefundState.values)
    applied_at = serializers.DateTimeField()
    paid_on = serializers.DateField(allow_null=True)
    payout_ref = serializers.CharField(allow_blank=True)


class CreditSerializer(serializers.Serializer):
    credit = Money(help_text="The unit's credit now.")
    pending = Money(help_text="What its refund applications not yet approved ask for.")
    entries = CreditEntrySerializer(many=True)
    refunds = RefundSerializer(many=True)


class RefundPaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    payout_ref = serializers.CharField(max_length=64)


class CreditView(UnitView):
    @extend_schema(
        responses=CreditSerializer,
        summary="The unit's credit, each use of it, its refund applications and their state",
    )
    def get(self, request):
        unit_id = request.member.unit_id
        data = {
            "credit": unit_credit(unit_id),
            "pending": unit_credit_pending(unit_id),
            "entries": CreditEntry.objects.filter(unit_id=unit_id)
            .select_related("case", "arrival", "refund")
            .order_by("-effective_on", "-pk")[:PAGE],
            "refunds": CreditRefund.objects.filter(unit_id=unit_id).order_by("-applied_at", "-pk")[
                :PAGE
            ],
        }
        return Response(CreditSerializer(data).data)


class RefundPaidView(FinanceView):
    @extend_schema(
        request=RefundPaidSerializer,
        responses={200: RefundSerializer, 404: OpenApiResponse(description="No such refund")},
        summary="Record an approved refund paid out (idempotent on payout_ref)",
    )
    def post(self, request, refund_no: str):
        given = RefundPaidSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        refund = get_object_or_404(CreditRefund, refund_no=refund_no)
        refund = refund_pay(
            refund_id=refund.pk,
            paid_on=given.validated_data["paid_on"],
            payout_ref=given.validated_data["payout_ref"],
            actor=request.user,
        )
        return Response(RefundSerializer(refund).data)
