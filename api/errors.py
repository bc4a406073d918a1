"""Every API error is JSON: {"detail": "...", "errors": {field: [messages]}} (errors optional)."""

import errno
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


# How long a client should wait before trying again when a dependency is down.
RETRY_AFTER_SECONDS = 10


class DependencyDown(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable. Please try again in a few seconds."
    default_code = "unavailable"


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    ):
        # The database or the disk, not the request: say so, and when to come back.
        logger.error(
            "dependency down: %s", exc, extra={"event": "dependency_down", "error": str(exc)}
        )
        exc = DependencyDown()
        exc.wait = RETRY_AFTER_SECONDS
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
