"""One validation path: what organizers and participants type is judged alike on the page and
through the API, for every text field. The same values are refused, in the same words, and the
same values are kept, trimmed the same way.

- contest (name, prize, description, rules, slug): ContestForm on the page, ContestWriteSerializer
  in the API (fields that refuse in the form's words), then the model's validators in
  contest_create / contest_update for both;
- entry (first and last name, email, message): EntryForm for both, then video_submit;
- organizer (name): SignupForm on the page, OrganizerCreateSerializer in the API, then the
  sign-up service for both.
"""

import pytest

from accounts.models import User
from contests.models import Contest
from tests.media import entry_fields
from tests.web.helpers import contest_form, make_contest
from videos.models import Video

# Refused in every text field, one-line or not.
CONTROL = {
    "NUL": "Ana\x00Bea",
    "ESC": "Ana\x1b[31mBea",
    "right-to-left override": "Ana \u202egpj.exe",
    "DEL": "Ana\x7fBea",
    "C1 control": "Ana\x9bBea",
}
# Refused in one-line fields (names), kept in free text (description, rules, message).
BREAKS = {"line feed": "Ana\nBea", "tab": "Ana\tBea", "line separator": "Ana\u2028Bea"}
# Kept, trimmed, everywhere.
TRIMMED = {"trailing line break": "Ana\n", "spaces around": "  Ana  "}
BLANK = {"blank": " \t "}


def values(*groups: dict, **more: str) -> list:
    merged = {key: value for group in groups for key, value in group.items()} | more
    return [pytest.param(value, id=key) for key, value in merged.items()]


def cases(field: str, *groups: dict, **more: str) -> list:
    return [pytest.param(field, *value.values, id=f"{field}-{value.id}") for value in
            values(*groups, **more)]  # fmt: skip


def page_outcome(response, field: str):
    if response.status_code == 302:
        return "kept"
    return response.context["form"].errors.get(field, [])


def api_outcome(response, field: str):
    if response.status_code in (200, 201, 202):
        return "kept"
    assert response.status_code == 400, response.content
    return response.json().get("errors", {}).get(field, [])


def api_contest(**fields) -> dict:
    data = contest_form(**fields)
    data["starts_at"] += "Z"  # UTC, as the page's form says
    data["ends_at"] += "Z"
    return data


def assert_alike(page, api, field: str, value: str, refused: bool | None = None):
    """The page and the API answered alike; `refused` says which way, where it is known."""
    assert page_outcome(page, field) == api_outcome(api, field), repr(value)
    if refused is not None:
        assert (page_outcome(page, field) != "kept") is refused, repr(value)


# ---------------------------------------------------------------- contests


@pytest.mark.parametrize(
    "field, value",
    [
        *cases("name", CONTROL, BREAKS, TRIMMED, BLANK, long="A" * 201),
        *cases("prize", CONTROL, BREAKS, TRIMMED, long="A" * 301),
        *cases("description", CONTROL, BREAKS, TRIMMED),
        *cases("rules", CONTROL, BREAKS, TRIMMED),
        *cases("slug", CONTROL, BLANK, space="two words"),
    ],
)
def test_a_new_contest_is_judged_alike(alice_client, alice_api, field, value):
    page = alice_client.post("/dashboard/contests/new/", contest_form(**{field: value}))
    kept_by_page = list(Contest.objects.values_list(field, flat=True))
    Contest.objects.all().delete()
    api = alice_api.post("/api/v1/contests", api_contest(**{field: value}), format="json")
    kept_by_api = list(Contest.objects.values_list(field, flat=True))
    refused = True if value in CONTROL.values() else None
    assert_alike(page, api, field, value, refused)
    assert kept_by_page == kept_by_api


@pytest.mark.parametrize("field", ["name", "slug", "prize", "description", "rules"])
@pytest.mark.parametrize("value", values(CONTROL))
def test_a_changed_contest_is_judged_alike(alice, alice_client, alice_api, field, value):
    contest = make_contest(alice, "summer-shorts", name="Summer shorts")
    page = alice_client.post(
        "/dashboard/contests/summer-shorts/edit/",
        contest_form(**{"slug": "summer-shorts", field: value}),
    )
    api = alice_api.patch("/api/v1/contests/summer-shorts", {field: value}, format="json")
    assert_alike(page, api, field, value, refused=True)
    contest.refresh_from_db()
    assert (contest.slug, contest.name) == ("summer-shorts", "Summer shorts")


# ---------------------------------------------------------------- entries


@pytest.mark.parametrize(
    "field, value",
    [
        *cases("first_name", CONTROL, BREAKS, TRIMMED, BLANK),
        *cases("last_name", CONTROL, long="A" * 101),
        *cases("message", CONTROL, BREAKS, TRIMMED, long="A" * 2001),
        *cases("email", CONTROL),
    ],
)
def test_an_entry_is_judged_alike(client, api, contest, clips, field, value):
    page = client.post(f"/{contest.slug}/", entry_fields(clips[".avi"], **{field: value}))
    kept_by_page = list(Video.objects.values_list(field, flat=True))
    Video.objects.all().delete()
    api = api.post(
        f"/api/v1/contests/{contest.slug}/videos", entry_fields(clips[".avi"], **{field: value})
    )
    kept_by_api = list(Video.objects.values_list(field, flat=True))
    refused = True if value in CONTROL.values() else None
    assert_alike(page, api, field, value, refused)
    assert kept_by_page == kept_by_api


# ---------------------------------------------------------------- organizers


@pytest.mark.parametrize("value", values(CONTROL, BREAKS, TRIMMED, BLANK, long="A" * 151))
def test_an_organizer_name_is_judged_alike(client, api, db, value):
    account = {"name": value, "email": "olga@example.com", "password": "a-long-secret-42"}
    page = client.post("/accounts/signup/", account)
    kept_by_page = list(User.objects.values_list("name", flat=True))
    User.objects.all().delete()
    api = api.post("/api/v1/organizers", account, format="json")
    kept_by_api = list(User.objects.values_list("name", flat=True))
    refused = True if value in CONTROL.values() else None
    assert_alike(page, api, "name", value, refused)
    assert kept_by_page == kept_by_api
