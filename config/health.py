"""Health checks: /health for the load balancer; `manage.py worker_health` for workers."""

import logging

from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def database_problem() -> str:
    """'' when the database answers a query, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return f"database unreachable: {error}".strip()
    return ""


def health(request):
    """200 when this instance can serve (its database answers), else 503. Cheap and open to
    anyone, so the answer names the failing part but not its error (hosts, users): that goes
    to the log."""
    problem = database_problem()
    if problem:
        logger.warning(problem, extra={"event": "health_failed", "check": "database"})
        return JsonResponse({"status": "unavailable", "reason": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


class HealthMiddleware:
    """Answers /health before the other middleware. The load balancer calls each instance at
    its private IP, which ALLOWED_HOSTS does not list (CommonMiddleware would answer 400), and
    over plain HTTP (an HTTPS redirect would fail the check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/health":
            return health(request)
        return self.get_response(request)
