"""Every error under /api/ is JSON in the shape the schema documents (the Error component):
{"detail": "...", "errors": {field: [messages]}}, never an HTML page, never a CSRF refusal.

Each status is produced by what produces it in use: Django's test client through the whole
middleware stack (CSRF checks on), the ASGI application for what the web server answers itself
(408, 413 before the body), and a served process whose database is gone for the 503. The 403
and 500 have no operation that gives them today, so probe views below raise them under /api/.
"""

import asyncio
import json
import shutil

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import Client
from django.urls import path
from rest_framework.decorators import api_view

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - the probes'
from config.urls import urlpatterns as site_urls
from tests.media import entry_fields

SHAPE = {"detail", "errors"}


def assert_error(response, status: int) -> dict:
    """The answer is a JSON error of this status, in the Error component's shape."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) <= SHAPE and isinstance(body["detail"], str) and body["detail"]
    for field, messages in body.get("errors", {}).items():
        assert isinstance(field, str) and messages
        assert all(isinstance(message, str) for message in messages)
    return body


@pytest.fixture
def strict() -> Client:
    """A client as a browser or a script is: Django checks CSRF on what it sends."""
    return Client(enforce_csrf_checks=True)


def test_the_schema_documents_this_error_shape(api, db):
    schema = api.get("/api/v1/openapi.json").json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    assert set(error["properties"]) == SHAPE
    assert error["properties"]["detail"]["type"] == "string"
    errors = error["properties"]["errors"]
    assert errors["type"] == "object"
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


# ---------------------------------------------------------------- 400


def test_a_malformed_json_body_is_400(alice_api):
    response = alice_api.post("/api/v1/contests", "{not json", content_type="application/json")
    assert "JSON parse error" in assert_error(response, 400)["detail"]


def test_a_refused_field_is_400_naming_it(alice_api):
    response = alice_api.post("/api/v1/contests", {"name": "Winter"}, format="json")
    body = assert_error(response, 400)
    assert body["errors"]["slug"] == ["This field is required."]


def test_a_host_the_site_does_not_serve_is_400_json_under_api(db):
    response = Client(HTTP_HOST="evil.example").get("/api/v1/contests/x")
    assert_error(response, 400)
    page = Client(HTTP_HOST="evil.example").get("/")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


# ---------------------------------------------------------------- 401


def test_an_organizers_operation_without_a_token_is_401_with_the_scheme(strict, db):
    response = strict.get("/api/v1/contests")
    assert "Bearer" in assert_error(response, 401)["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_401_on_any_operation(db):
    wrong = Client(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(wrong.get("/api/v1/contests/summer-shorts"), 401)
    assert_error(wrong.post("/api/v1/contests", {}, content_type="application/json"), 401)


# ---------------------------------------------------------------- 403, 500, 503: probes


@api_view(["GET"])
def api_forbidden(request):
    raise PermissionDenied


def plain_forbidden(request):
    raise PermissionDenied


def plain_failure(request):
    raise RuntimeError("a bug")


@api_view(["GET"])
def api_failure(request):
    raise RuntimeError("a bug")


@api_view(["GET"])
def database_down(request):
    raise OperationalError("connection refused")


urlpatterns = [
    path("api/v1/probe/forbidden", api_forbidden),
    path("api/v1/probe/plain-forbidden", plain_forbidden),
    path("api/v1/probe/failure", api_failure),
    path("api/v1/probe/plain-failure", plain_failure),
    path("api/v1/probe/database-down", database_down),
    path("probe/plain-failure", plain_failure),
    *site_urls,
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("probe", ["forbidden", "plain-forbidden"])
def test_a_refusal_is_403_json(db, probe):
    assert_error(Client().get(f"/api/v1/probe/{probe}"), 403)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("probe", ["failure", "plain-failure"])
def test_an_unexpected_failure_is_500_json_under_api(db, probe):
    response = Client(raise_request_exception=False).get(f"/api/v1/probe/{probe}")
    assert assert_error(response, 500) == {"detail": "A server error occurred."}
    page = Client(raise_request_exception=False).get("/probe/plain-failure")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_a_dependency_down_is_503_json_with_retry_after(db):
    response = Client().get("/api/v1/probe/database-down")
    assert "try again" in assert_error(response, 503)["detail"]
    assert int(response["Retry-After"]) > 0


# ---------------------------------------------------------------- 404


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_an_unknown_path_is_404_json_for_any_method_never_a_csrf_page(strict, db, method):
    for unknown in ("/api/v1/nothing", "/api/v2/contests", "/api/v1/contests/not%20a%20slug"):
        response = strict.generic(method, unknown, "{}", content_type="application/json")
        assert assert_error(response, 404) == {"detail": "Not found."}


def test_an_id_that_is_not_a_uuid_is_404_json(alice_api, contest):
    for path_ in ("/api/v1/videos/12345", "/api/v1/videos/x'--/original"):
        assert_error(alice_api.get(path_), 404)
    assert_error(alice_api.patch("/api/v1/videos/12345", {"hidden": True}, format="json"), 404)


def test_an_unknown_contest_or_a_page_past_the_last_is_404_json(api, alice_api, contest):
    assert_error(api.get("/api/v1/contests/no-such-contest"), 404)
    assert_error(alice_api.delete("/api/v1/contests/no-such-contest"), 404)
    assert_error(api.get(f"/api/v1/contests/{contest.slug}/videos?page=9"), 404)


def test_the_entries_live_states_ignore_ids_that_are_not_uuids(alice, contest):
    # The dashboard's poll (not under /api/): it answered 500 to such an id.
    client = Client()
    client.force_login(alice)
    response = client.get(f"/dashboard/contests/{contest.slug}/states?ids=12345,x'--")
    assert response.status_code == 200
    assert response.json() == {"entries": {}, "count": 0}


# ---------------------------------------------------------------- 405, 415


def test_a_method_an_operation_does_not_take_is_405_json(strict, alice_api, contest):
    assert_error(strict.put("/api/v1/contests"), 405)
    assert_error(alice_api.post(f"/api/v1/contests/{contest.slug}"), 405)


def test_a_body_of_a_type_an_operation_does_not_take_is_415_json(alice_api):
    response = alice_api.post("/api/v1/contests", "name=x", content_type="text/plain")
    assert_error(response, 415)


def test_a_file_that_is_not_a_video_is_415_json(api, contest, clips):
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry_fields(clips["text"]))
    assert "file" in assert_error(response, 415)["errors"]


# ---------------------------------------------------------------- 413


TOO_LARGE = "The request is larger than 2.5 MB."


def test_a_json_body_over_the_memory_limit_is_413_json(api, db):
    body = json.dumps({"name": "x" * 3_000_000, "email": "a@example.com", "password": "p"})
    response = api.post("/api/v1/organizers", body, content_type="application/json")
    assert assert_error(response, 413) == {"detail": TOO_LARGE}


def test_a_form_body_over_the_memory_limit_is_413_json(alice_api):
    body = "name=" + "x" * 3_000_000
    response = alice_api.post(
        "/api/v1/contests", body, content_type="application/x-www-form-urlencoded"
    )
    assert assert_error(response, 413) == {"detail": TOO_LARGE}


def test_a_multipart_field_over_the_memory_limit_is_413_json(alice_api):
    response = alice_api.post("/api/v1/contests", {"name": "x" * 3_000_000}, format="multipart")
    assert assert_error(response, 413) == {"detail": TOO_LARGE}


def test_an_upload_over_max_upload_mb_is_413_json(api, contest, clips, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry_fields(clips[".avi"]))
    assert assert_error(response, 413)["errors"]["file"] == ["The file is larger than 0 MB."]


# ---------------------------------------------------------------- 429


def test_over_a_rate_limit_is_429_json_with_retry_after(api, db, settings):
    settings.SIGNUPS_PER_ADDRESS_HOUR = 0
    account = {"name": "Olga", "email": "olga@example.com", "password": "a-long-secret-42"}
    response = api.post("/api/v1/organizers", account, format="json")
    assert "sign-ups" in assert_error(response, 429)["detail"]
    assert int(response["Retry-After"]) > 0


# ---------------------------------------------------------------- the web server's own: 408, 413


def asgi_post(app, path_: str, headers: list[tuple[bytes, bytes]], parts: list[bytes]) -> dict:
    """One POST through the ASGI application; after `parts` the client goes silent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path_, "raw_path": path_.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    answer = {"status": None, "headers": {}, "body": b""}

    async def main():
        remaining = iter(parts)
        answered = asyncio.Event()

        async def receive():
            part = next(remaining, None)
            if part is None:
                await answered.wait()
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": part, "more_body": True}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = dict(message["headers"])
            else:
                answer["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    answered.set()

        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(main())
    return answer


def assert_asgi_error(answer: dict, status: int) -> dict:
    assert answer["status"] == status, answer
    assert answer["headers"][b"content-type"] == b"application/json"
    body = json.loads(answer["body"])
    assert set(body) <= SHAPE and isinstance(body["detail"], str)
    return body


def test_a_declared_length_over_the_upload_limit_is_413_json_for_any_content_type(settings):
    from config.asgi import application

    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    for content_type in (b"application/json", b"multipart/form-data; boundary=x", b"text/plain"):
        headers = [(b"content-type", content_type), (b"content-length", str(50 * 2**20).encode())]
        answer = asgi_post(application, "/api/v1/contests", headers, [])
        assert assert_asgi_error(answer, 413)["detail"] == "The file is larger than 1 MB."


def test_a_body_that_stops_arriving_is_408_json():
    from config.asgi import Handler, UploadGuard
    from videos import services

    guard = UploadGuard(
        Handler(),
        too_large=services.upload_too_large,
        message=services.too_large_message,
        idle_seconds=0.5,
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
    answer = asgi_post(guard, "/api/v1/organizers", headers, [b'{"name": '])
    assert assert_asgi_error(answer, 408) == {"detail": "Request timed out."}


# ---------------------------------------------------------------- 503 from a real outage


@pytest.mark.e2e
def test_a_served_api_whose_database_is_gone_answers_503_json(tmp_path):
    import requests

    from tests.e2e.service import Service

    service = Service(tmp_path, db_engine="sqlite").start(worker=False)
    try:
        database = service.database["NAME"]
        # The database file becomes something SQLite cannot open: every request's new
        # connection fails, as when a database server is unreachable.
        shutil.move(database, f"{database}.away")
        (tmp_path / "blocker").mkdir()
        shutil.move(tmp_path / "blocker", database)
        for url in ("/api/v1/contests/summer-shorts", "/api/v1/contests/summer-shorts/videos"):
            response = requests.get(service.url + url, timeout=30)
            assert response.status_code == 503, response.text
            assert response.headers["Content-Type"] == "application/json"
            assert set(response.json()) == {"detail"}
            assert int(response.headers["Retry-After"]) > 0
    finally:
        service.stop()
