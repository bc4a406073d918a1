"""Every API error is JSON: {"detail": "...", "errors": {field: [messages]}} (errors optional)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"detail": str(data["detail"])}
    elif isinstance(data, dict):
        response.data = {"detail": first_message(data), "errors": data}
    elif isinstance(data, list):
        response.data = {"detail": first_message(data), "errors": {"non_field_errors": data}}
    return response


def first_message(errors) -> str:
    """A readable one-line summary: the first message, prefixed by its field."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = first_message(value)
            return message if field in ("non_field_errors", "detail") else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return first_message(errors[0])
    return str(errors) if errors else "Invalid request."


def error_response(detail: str, code: int, field: str | None = None) -> Response:
    data: dict = {"detail": detail}
    if field:
        data["errors"] = {field: [detail]}
    return Response(data, status=code)


NOT_FOUND = {"detail": "Not found."}
HTTP = status
