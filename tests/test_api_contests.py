import io

from django.core.files.storage import default_storage
from PIL import Image

from contests.models import Contest

NEW_CONTEST = {
    "name": "Winter tales",
    "slug": "winter-tales",
    "description": "Snow stories.",
    "prize": "A trip",
    "starts_at": "2026-01-01T00:00:00Z",
    "ends_at": "2030-01-01T00:00:00Z",
}


def png_file(name="banner.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (600, 200), (200, 40, 90)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_an_organizer_creates_a_contest_with_a_banner(alice_api):
    response = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "banner": png_file()}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "http://localhost:8080/winter-tales/"
    assert body["banner_url"].startswith("http://localhost:8080/media/banners/winter-tales-")
    assert body["is_open"] is True
    contest = Contest.objects.get(slug="winter-tales")
    assert default_storage.exists(contest.banner.name)


def test_a_banner_must_be_a_real_image(alice_api):
    fake = io.BytesIO(b"GIF89a but not really an image")
    fake.name = "banner.gif"
    response = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "banner": fake}, format="multipart"
    )
    assert response.status_code == 400
    assert "banner" in response.json()["errors"]
    assert not Contest.objects.filter(slug="winter-tales").exists()


def test_the_slug_is_unique_and_not_reserved(alice_api, contest):
    taken = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "slug": contest.slug}, format="json")
    assert taken.status_code == 400
    assert "slug" in taken.json()["errors"]
    reserved = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "slug": "dashboard"}, format="json"
    )
    assert reserved.status_code == 400
    assert "reserved" in reserved.json()["detail"]


def test_a_contest_ends_after_it_starts(alice_api):
    response = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "ends_at": "2025-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()["errors"]


def test_creating_needs_an_organizer(api, db):
    response = api.post("/api/v1/contests", NEW_CONTEST, format="json")
    assert response.status_code == 401
    assert not Contest.objects.exists()


def test_the_list_has_only_my_contests(alice_api, bob_api, contest):
    bob_api.post("/api/v1/contests", NEW_CONTEST, format="json")
    mine = alice_api.get("/api/v1/contests").json()
    assert [item["slug"] for item in mine["results"]] == ["summer-shorts"]
    theirs = bob_api.get("/api/v1/contests").json()
    assert [item["slug"] for item in theirs["results"]] == ["winter-tales"]


def test_anyone_reads_the_public_facts(api, contest):
    response = api.get(f"/api/v1/contests/{contest.slug}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Summer shorts"
    assert "alice@example.com" not in response.content.decode()


def test_the_owner_edits_the_contest(alice_api, contest):
    response = alice_api.patch(
        f"/api/v1/contests/{contest.slug}", {"prize": "Two cameras"}, format="json"
    )
    assert response.status_code == 200
    contest.refresh_from_db()
    assert contest.prize == "Two cameras"


def test_another_organizer_cannot_edit_or_delete(bob_api, api, contest):
    assert (
        bob_api.patch(f"/api/v1/contests/{contest.slug}", {"prize": "x"}, format="json").status_code
        == 404
    )
    assert bob_api.delete(f"/api/v1/contests/{contest.slug}").status_code == 404
    assert api.delete(f"/api/v1/contests/{contest.slug}").status_code == 401
    contest.refresh_from_db()
    assert contest.prize == "A camera"


def test_the_owner_deletes_the_contest_and_its_files(
    alice_api, contest, django_capture_on_commit_callbacks
):
    contest.banner.save("b.png", png_file(), save=True)
    banner = contest.banner.name
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(f"/api/v1/contests/{contest.slug}")
    assert response.status_code == 204
    assert not Contest.objects.filter(slug=contest.slug).exists()
    assert not default_storage.exists(banner)
