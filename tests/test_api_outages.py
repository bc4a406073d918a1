"""When the database or the disk is down the API answers JSON 503 with Retry-After, not HTML."""

import errno

from django.db import OperationalError

from api.errors import exception_handler


def test_a_database_outage_is_a_json_503_with_retry_after():
    response = exception_handler(OperationalError("connection refused"), {})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.data == {
        "detail": "The service is briefly unavailable. Please try again in a few seconds."
    }


def test_a_full_disk_is_a_json_503_too():
    response = exception_handler(OSError(errno.ENOSPC, "No space left on device"), {})
    assert response.status_code == 503


def test_other_server_errors_are_left_to_the_error_page():
    assert exception_handler(OSError(errno.EACCES, "Permission denied"), {}) is None
