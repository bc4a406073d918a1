"""The served OpenAPI schema (/api/v1/openapi.json) says what the API answers.

The first tests read the schema for what clients rely on: lists are pages, every error has the
Error body, uploads are multipart, organizers' operations need a token. The last one lets
schemathesis loose on a real web process, authenticated as an organizer made here, and requires
no server error and no answer the schema does not describe (status, content type, body).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.service import Service, open_contest

BIN = Path(sys.executable).parent
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def schema(api, db) -> dict:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method, operation


def body_schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


def test_lists_are_documented_as_the_pages_they_are(schema):
    for path, component in [
        ("/api/v1/contests", "PaginatedContestList"),
        ("/api/v1/contests/{slug}/videos", "PaginatedVideoPublicList"),
    ]:
        operation = schema["paths"][path]["get"]
        assert body_schema(operation["responses"]["200"]) == {
            "$ref": f"#/components/schemas/{component}"
        }
        assert "page" in [parameter["name"] for parameter in operation["parameters"]]
        page = schema["components"]["schemas"][component]
        assert page["type"] == "object"
        assert set(page["required"]) == {"count", "results"}
        assert page["properties"]["results"]["type"] == "array"
        assert page["properties"]["next"]["nullable"] is True


def test_every_operation_documents_its_errors_with_the_error_body(schema):
    for name, _, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401", "503"}
        if "requestBody" in operation:
            expected |= {"400", "408", "413", "415"}
        assert expected <= set(responses), name
        for status, response in responses.items():
            if int(status) >= 400:
                assert body_schema(response) == ERROR, f"{name} {status}"
                assert response["description"], f"{name} {status}"
        assert responses["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_operations_that_find_something_by_address_document_404(schema):
    for name, _, operation in operations(schema):
        if "{" in name:
            assert "404" in operation["responses"], name


def test_an_upload_is_multipart_with_a_binary_file(schema):
    operation = schema["paths"]["/api/v1/contests/{slug}/videos"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    upload = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert upload["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The video, in any format a camera makes.",
    }
    assert set(upload["required"]) == {"first_name", "last_name", "email", "file"}
    responses = operation["responses"]
    assert {"202", "404", "409", "413", "415", "422", "429"} <= set(responses)
    assert responses["429"]["headers"]["Retry-After"]


def test_organizers_operations_require_the_bearer_token(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    for path, method in [
        ("/api/v1/contests", "get"),
        ("/api/v1/contests", "post"),
        ("/api/v1/contests/{slug}", "patch"),
        ("/api/v1/contests/{slug}", "delete"),
        ("/api/v1/videos/{video_id}", "patch"),
        ("/api/v1/videos/{video_id}/original", "get"),
    ]:
        assert schema["paths"][path][method]["security"] == [{"bearerAuth": []}], (method, path)
    # Open to anyone, and a token shows more (the owner's view).
    assert {} in schema["paths"]["/api/v1/contests/{slug}/videos"]["get"]["security"]


def test_a_new_contest_links_to_the_operations_on_it(schema):
    links = schema["paths"]["/api/v1/contests"]["post"]["responses"]["201"]["links"]
    assert links["EnterVideo"] == {
        "operationId": "contests_videos_create",
        "parameters": {"slug": "$response.body#/slug"},
    }
    ids = {operation["operationId"] for _, _, operation in operations(schema)}
    for link in links.values():
        assert link["operationId"] in ids


# ---------------------------------------------------------------- schemathesis, served

# Test cases per operation and phase. 50 took 116 s on 2 cores once the API had grown to its
# upload operations; 25 keeps every operation and phase.
MAX_EXAMPLES = 25
SEED = 20260101  # the same cases every run; another seed finds others
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"  # noqa: E501
EMAIL, PASSWORD = "olga@example.com", "olga-long-password"  # open_contest's organizer


@pytest.mark.e2e
def test_schemathesis_finds_no_server_error_and_no_answer_the_schema_does_not_describe(
    tmp_path,
):
    # Limits high enough not to lock the organizer out while random log-ins fail around her.
    service = Service(
        tmp_path / "site",
        login_failures_per_address="100000",
        login_failures_per_account="100000",
    ).start(worker=False)
    try:
        open_contest(service.url, "fuzz-cup", "Fuzz cup", email=EMAIL)
        # Schemathesis logs in with POST /auth/token and logs in again when a token stops
        # working (DELETE /auth/token, which it tests too, revokes the one it sends).
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            "[auth.dynamic.openapi.bearerAuth]\n"
            'path = "/api/v1/auth/token"\n'
            f'payload = {{ email = "{EMAIL}", password = "{PASSWORD}" }}\n'
            'extract_selector = "/token"\n'
        )
        run = subprocess.run(
            [
                str(BIN / "schemathesis"), "--config-file", str(config), "run",
                f"{service.url}/api/v1/openapi.json",
                "--checks", CHECKS,
                "--max-examples", str(MAX_EXAMPLES),
                "--seed", str(SEED),
                "--workers", "1",
                "--request-timeout", "60",
                "--generation-database", "none",
                "--no-color",
            ],
            cwd=tmp_path, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        service.stop()
    output = run.stdout + run.stderr
    summary = output[output.rfind("SUMMARY") :]
    print(summary)
    assert run.returncode == 0, output[-20000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated[1]) >= 300, summary
    tested = re.search(r"Tested: (\d+)", summary)
    selected = re.search(r"Selected: (\d+)/(\d+)", summary)
    assert tested and selected and tested[1] == selected[2], summary  # every operation
