"""Control characters in what organizers type: refused alike by the pages and the API.

A contest's or an organizer's name ends up in email subjects and headers, so it must be one
line of printable text; descriptions and rules may hold line breaks and tabs, nothing else.
"""

import pytest

from accounts.models import User
from contests.models import Contest
from tests.web.helpers import contest_form, make_contest

SINGLE_LINE = "Use one line of plain text: no line breaks or control characters."
FREE_TEXT = "The text holds control characters; remove them and try again."

NOT_ONE_LINE = {
    "header injection": "Summer\r\nBcc: x@example.com",
    "line feed": "Summer\nshorts",
    "line separator": "Summer\u2028shorts",
    "NUL": "Summer\x00shorts",
    "ESC": "Summer\x1b[31mshorts",
    "right-to-left override": "Summer \u202egpj.exe",
    "isolate": "Summer\u2066shorts",
}
NOT_TEXT = {key: NOT_ONE_LINE[key] for key in ("NUL", "ESC", "right-to-left override")}
API_CONTEST = {
    "name": "Winter tales",
    "slug": "winter-tales",
    "starts_at": "2030-01-01T00:00:00Z",
    "ends_at": "2030-02-01T00:00:00Z",
}


def page_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def api_errors(response, field: str) -> list[str]:
    assert response.status_code == 400, response.content
    return response.json()["errors"].get(field, [])


@pytest.mark.parametrize("value", NOT_ONE_LINE.values(), ids=NOT_ONE_LINE.keys())
@pytest.mark.parametrize("field", ["name", "prize"])
def test_a_contest_name_or_prize_is_one_line_on_the_page_and_in_the_api(
    alice_client, alice_api, field, value
):
    page = alice_client.post("/dashboard/contests/new/", contest_form(**{field: value}))
    api = alice_api.post("/api/v1/contests", {**API_CONTEST, field: value}, format="json")
    assert page_errors(page, field) == [SINGLE_LINE]
    assert api_errors(api, field) == [SINGLE_LINE]
    assert api.json()["detail"] == f"{field}: {SINGLE_LINE}"
    assert not Contest.objects.exists()


@pytest.mark.parametrize("value", NOT_TEXT.values(), ids=NOT_TEXT.keys())
@pytest.mark.parametrize("field", ["description", "rules"])
def test_a_description_refuses_control_characters_on_the_page_and_in_the_api(
    alice_client, alice_api, field, value
):
    page = alice_client.post("/dashboard/contests/new/", contest_form(**{field: value}))
    api = alice_api.post("/api/v1/contests", {**API_CONTEST, field: value}, format="json")
    assert page_errors(page, field) == [FREE_TEXT]
    assert api_errors(api, field) == [FREE_TEXT]
    assert not Contest.objects.exists()


def test_a_description_keeps_its_line_breaks_and_tabs(alice_api):
    text = "Line one\r\nLine two\n\tindented"
    response = alice_api.post(
        "/api/v1/contests", {**API_CONTEST, "description": text, "rules": text}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Contest.objects.get(slug="winter-tales").description == text


def test_a_multipart_request_is_checked_as_json_is(alice_api):
    response = alice_api.post(
        "/api/v1/contests", {**API_CONTEST, "name": "Summer\x00shorts"}, format="multipart"
    )
    assert api_errors(response, "name") == [SINGLE_LINE]


@pytest.mark.parametrize("value", NOT_ONE_LINE.values(), ids=NOT_ONE_LINE.keys())
def test_renaming_a_contest_is_checked_on_the_page_and_in_the_api(
    alice, alice_client, alice_api, value
):
    contest = make_contest(alice, "summer-shorts", name="Summer shorts")
    page = alice_client.post(
        "/dashboard/contests/summer-shorts/edit/", contest_form(slug="summer-shorts", name=value)
    )
    api = alice_api.patch("/api/v1/contests/summer-shorts", {"name": value}, format="json")
    assert page_errors(page, "name") == [SINGLE_LINE]
    assert api_errors(api, "name") == [SINGLE_LINE]
    contest.refresh_from_db()
    assert contest.name == "Summer shorts"


@pytest.mark.parametrize("value", NOT_ONE_LINE.values(), ids=NOT_ONE_LINE.keys())
def test_an_organizer_name_is_one_line_on_the_page_and_in_the_api(client, api, db, value):
    account = {"name": value, "email": "olga@example.com", "password": "a-long-secret-42"}
    page = client.post("/accounts/signup/", account)
    response = api.post("/api/v1/organizers", account, format="json")
    assert page_errors(page, "name") == [SINGLE_LINE]
    assert api_errors(response, "name") == [SINGLE_LINE]
    assert not User.objects.exists()


def test_a_name_that_only_ends_with_a_line_break_is_trimmed(client, db):
    account = {"name": "Olga\r\n", "email": "olga@example.com", "password": "a-long-secret-42"}
    assert client.post("/accounts/signup/", account).status_code == 302
    assert User.objects.get().name == "Olga"
