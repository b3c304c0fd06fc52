"""Employees' records over the API: the core contribution system pulls the paid person-month
batches (its own read-only credential), and the city-service front ends (WeChat, Alipay, the
e-tax bureau) answer a person's inquiry about their own months after authenticating the person by
real name themselves.

The inquiry never tells a front end whether an ID number exists: an unknown number and a known
number with another name get the same answer, no months. Every call is in the access log."""

import hashlib

from django.conf import settings
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.throttling import SlidingWindowThrottle, UserSlidingWindowThrottle
from replenish.models import AccessChannel, PaidMonthBatch
from replenish.reasons import Reason
from replenish.services.records import paid_months_csv, person_records_open
from units.identifiers import validate_id_number


class IsCoreSystem(BasePermission):
    """The core contribution system's credential: it may read the paid person-month batches."""

    message = "This credential is not the core contribution system's."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("replenish.view_paidmonthbatch"))


class IsCityFrontEnd(BasePermission):
    """A city-service front end's credential (one per front end)."""

    message = "This credential is not a city-service front end's."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("replenish.inquire_person_records"))


class CoreThrottle(UserSlidingWindowThrottle):
    scope = "core"


class FrontEndThrottle(UserSlidingWindowThrottle):
    """Requests per front end."""

    scope = "front_end"


class PersonThrottle(SlidingWindowThrottle):
    """Inquiries per person, whichever front end asks: counted by a digest of the ID number, so
    the number itself is never a cache key."""

    scope = "person"

    def get_cache_key(self, request, view):
        id_number = str(request.data.get("id_number", "")).strip().upper()
        if not id_number:
            return None
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{id_number}".encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class BatchSerializer(serializers.Serializer):
    batch = serializers.IntegerField(source="number")
    made_at = serializers.DateTimeField()
    months = serializers.IntegerField(source="rows")


class CoreView(APIView):
    permission_classes = [IsCoreSystem]
    throttle_classes = [CoreThrottle]


class PaidMonthBatchListView(CoreView):
    @extend_schema(
        responses=BatchSerializer(many=True),
        summary="The paid person-month batches, newest first (the newest 200)",
    )
    def get(self, request):
        return Response(BatchSerializer(PaidMonthBatch.objects.all()[:200], many=True).data)


class PaidMonthBatchFileView(CoreView):
    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        summary="One batch as the file of docs/formats.md, the same bytes every time",
    )
    def get(self, request, number: int):
        get_object_or_404(PaidMonthBatch, number=number)
        response = StreamingHttpResponse(paid_months_csv(number), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="paid-months-{number}.csv"'
        return response


def _id_number_check(value: str) -> None:
    """A validator returns nothing: the ID number's checks, their normalised value dropped."""
    validate_id_number(value)


class InquiryInSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=18, validators=[_id_number_check])
    name = serializers.CharField(max_length=100)


class InquiryMonthSerializer(serializers.Serializer):
    period = serializers.CharField()
    unit_name = serializers.CharField()
    employer_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    employee_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    owed = serializers.DecimalField(max_digits=16, decimal_places=2)
    status = serializers.CharField()
    status_label = serializers.CharField()
    status_on = serializers.DateField(allow_null=True)
    restored = serializers.BooleanField()


class InquiryOutSerializer(serializers.Serializer):
    months = InquiryMonthSerializer(many=True)
    agency_name = serializers.CharField()
    agency_contact = serializers.CharField()


class PersonInquiryView(APIView):
    permission_classes = [IsCityFrontEnd]
    throttle_classes = [FrontEndThrottle, PersonThrottle]

    @extend_schema(
        request=InquiryInSerializer,
        responses=InquiryOutSerializer,
        summary="A person's own months in arrears and restored",
        description=(
            "The front end has authenticated the person by real name and passes the ID number and "
            "the name. The answer is the same, no months, for an unknown ID number and for a known "
            "one with another name. Sent by POST so that the number is in no URL or access log."
        ),
    )
    def post(self, request):
        given = InquiryInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        id_number = given.validated_data["id_number"].strip().upper()
        name = given.validated_data["name"].strip()
        person, months = person_records_open(
            id_number=id_number,
            reason=Reason("city_service_inquiry", user=request.user.get_username()),
            actor=request.user,
            channel=AccessChannel.FRONT_END,
            expected_name=name,
        )
        return Response(
            InquiryOutSerializer(
                {
                    "months": months if person else [],
                    "agency_name": settings.AGENCY_NAME,
                    "agency_contact": settings.AGENCY_CONTACT,
                }
            ).data
        )
