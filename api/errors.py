"""Every API error is JSON: {"detail": "...", "errors": {field: [messages]}} (errors optional).

Errors raised in an API view come through `exception_handler` (DRF's hook). Those that happen
before a view runs or outside one (an unknown path, a refused host, an unexpected failure) come
through the handlers below, which config/urls.py names as Django's handler400/403/404/500
(and settings.py as CSRF_FAILURE_VIEW): under /api/ they answer the same JSON, elsewhere the
site's pages (templates/404.html, 500.html, 403_csrf.html) or Django's. The web server's own answers
(413 and 408, config/asgi.py) have the same shape.
"""

import errno
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# How long a client should wait before trying again when a dependency is down.
RETRY_AFTER_SECONDS = 10


class DependencyDown(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable. Please try again in a few seconds."
    default_code = "unavailable"


class BodyTooLarge(exceptions.APIException):
    """A request body larger than Django reads into memory (DATA_UPLOAD_MAX_MEMORY_SIZE): every
    body but an upload's files, which go to disk and have their own limit (max_upload_mb)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        megabytes = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:.1f}".removesuffix(".0")
        super().__init__(_("The request is larger than %(size)s MB.") % {"size": megabytes})


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
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields or files in a form, a malformed multipart body...: the request's fault.
        exc = exceptions.ParseError()
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


def json_error(detail: str, code: int) -> JsonResponse:
    """An API error answered outside DRF, in the same shape."""
    return JsonResponse({"detail": str(detail)}, status=code)


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


# ---------------------------------------------------------------- Django's error handlers


@csrf_exempt  # an unknown path is not a form: a POST there is answered 404, not refused for CSRF
def api_not_found(request, *args, **kwargs):
    """Any method on a path under /api/ that names nothing."""
    return json_error(exceptions.NotFound.default_detail, status.HTTP_404_NOT_FOUND)


def bad_request(request, exception=None):
    if is_api(request):
        return json_error(exceptions.ParseError.default_detail, status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return json_error(exceptions.PermissionDenied.default_detail, status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return json_error(exceptions.APIException.default_detail, 500)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """A form sent with a stale or missing CSRF token: most often a page left open past a
    log-in or log-out elsewhere. Say so, and lead back to the form; never Django's page."""
    if is_api(request):
        return json_error(exceptions.PermissionDenied.default_detail, status.HTTP_403_FORBIDDEN)
    back = request.headers.get("Referer", "")
    allowed = {request.get_host()}
    if not url_has_allowed_host_and_scheme(back, allowed, require_https=request.is_secure()):
        back = "/"
    return render(request, "403_csrf.html", {"back_url": back}, status=403)
