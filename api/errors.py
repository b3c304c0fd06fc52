"""Errors of the API as structured JSON: `{"detail": ..., "errors": [{"field", "message"}]}`,
each naming the field at fault (`null` for the request as a whole)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from kernel.csvfiles import FileRejected


def _flatten(data, prefix: str = "") -> list[dict]:
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            field = None if key in ("non_field_errors", "__all__") else f"{prefix}{key}"
            found += (
                _flatten(value, f"{field}." if field else prefix)
                if isinstance(value, dict)
                else [{"field": field, "message": str(m)} for m in _as_list(value)]
            )
        return found
    return [{"field": prefix.rstrip(".") or None, "message": str(m)} for m in _as_list(data)]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def handle(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is larger than {limit} bytes.", "errors": []},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, FileRejected):
        errors = [{"field": e.column, "message": e.reason} for e in exc.errors]
        return Response(
            {"detail": "The arrival was refused.", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        data = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Response(
            {"detail": "Invalid input.", "errors": _flatten(data)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": _flatten(response.data)}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"detail": str(detail), "errors": []}
    return response
