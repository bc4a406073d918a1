from django.db import connection
from django.http import JsonResponse


def health(request):
    """For the load balancer: 200 when this instance can serve (its database answers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return JsonResponse({"status": "unavailable", "database": str(error)[:200]}, status=503)
    return JsonResponse({"status": "ok"})
