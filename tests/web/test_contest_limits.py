"""Limits on what organizers create: banner size and pixels, contests per account."""

import io
import random

from PIL import Image

from contests.models import Contest
from tests.test_api_contests import NEW_CONTEST, png_file
from tests.web.helpers import contest_form


def image_file(image: Image.Image, name: str = "banner.png") -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def noisy_png() -> io.BytesIO:
    """About 1.4 MB: noise does not compress."""
    pixels = random.Random(3).randbytes(800 * 600 * 3)
    return image_file(Image.frombytes("RGB", (800, 600), pixels))


def wide_png() -> io.BytesIO:
    """6000x5000 (30 Mpx) in a few KB: a small file that would decode to a large picture."""
    return image_file(Image.new("1", (6000, 5000)))


def test_a_banner_over_the_size_limit_is_refused_by_page_and_api(alice_api, alice_client, settings):
    settings.MAX_BANNER_BYTES = 1024 * 1024
    api = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "banner": noisy_png()})
    assert api.status_code == 400
    assert "larger than 1 MB" in api.json()["errors"]["banner"][0]
    page = alice_client.post("/dashboard/contests/new/", contest_form(banner=noisy_png()))
    assert page.status_code == 200
    assert "larger than 1 MB" in page.context["form"].errors["banner"][0]
    assert not Contest.objects.exists()


def test_a_banner_with_too_many_pixels_is_refused_from_its_header(alice_api, alice_client):
    api = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "banner": wide_png()})
    assert api.status_code == 400
    assert "6000x5000" in api.json()["errors"]["banner"][0]
    page = alice_client.post("/dashboard/contests/new/", contest_form(banner=wide_png()))
    assert "6000x5000" in page.context["form"].errors["banner"][0]
    assert not Contest.objects.exists()


def test_a_banner_within_the_limits_is_kept(alice_api):
    created = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "banner": png_file()})
    assert created.status_code == 201, created.json()


def test_an_account_has_at_most_the_configured_number_of_contests(
    alice_api, alice_client, bob_api, settings
):
    settings.CONTESTS_PER_ACCOUNT = 1
    assert alice_api.post("/api/v1/contests", NEW_CONTEST, format="json").status_code == 201
    refused = alice_api.post("/api/v1/contests", {**NEW_CONTEST, "slug": "second"}, format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "at most 1 contests" in refused.json()["detail"]
    page = alice_client.post("/dashboard/contests/new/", contest_form(slug="third"))
    assert page.status_code == 429
    # Another organizer has an allowance of their own.
    other = bob_api.post("/api/v1/contests", {**NEW_CONTEST, "slug": "bobs"}, format="json")
    assert other.status_code == 201
    assert Contest.objects.count() == 2


def test_the_entry_limit_is_set_per_contest(alice_api):
    created = alice_api.post(
        "/api/v1/contests", {**NEW_CONTEST, "max_entries_per_email": 5}, format="json"
    )
    assert created.json()["max_entries_per_email"] == 5
    changed = alice_api.patch(
        "/api/v1/contests/winter-tales", {"max_entries_per_email": 1}, format="json"
    )
    assert changed.json()["max_entries_per_email"] == 1
    assert (
        alice_api.patch(
            "/api/v1/contests/winter-tales", {"max_entries_per_email": 0}, format="json"
        ).status_code
        == 400
    )
