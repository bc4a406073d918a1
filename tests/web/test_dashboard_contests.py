"""The organizer's dashboard: her contests, and creating, editing and deleting one."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from contests.models import Contest
from tests.web.helpers import contest_form, png_file


@pytest.mark.parametrize(
    "url", ["/dashboard/", "/dashboard/contests/new/", "/dashboard/contests/summer-shorts/edit/"]
)
def test_the_dashboard_requires_login(client, contest, url):
    assertRedirects(client.get(url), f"/accounts/login/?next={url}")


def test_the_dashboard_lists_only_her_own_contests(alice_client, contest, bob_contest):
    response = alice_client.get("/dashboard/")
    assertContains(response, 'href="/dashboard/contests/summer-shorts/"')
    assertNotContains(response, "bobs-contest")
    assertNotContains(response, "Bob&#x27;s contest")
    assertNotContains(response, "Bob's contest")


# ---------------------------------------------------------------- create


def test_it_creates_a_contest_with_a_real_png_banner(alice_client, alice):
    response = alice_client.post("/dashboard/contests/new/", contest_form(banner=png_file()))
    assertRedirects(response, "/dashboard/contests/winter-tales/")
    contest = Contest.objects.get(slug="winter-tales")
    assert (contest.owner, contest.name, contest.prize) == (alice, "Winter tales", "A sled")
    with default_storage.open(contest.banner.name) as stored:
        assert Image.open(stored).format == "PNG"


def test_it_rejects_a_banner_that_is_not_an_image(alice_client):
    fake = io.BytesIO(b"GIF89a but not really an image")
    fake.name = "banner.gif"
    response = alice_client.post("/dashboard/contests/new/", contest_form(banner=fake))
    assert list(response.context["form"].errors) == ["banner"]
    assertContains(response, 'id="id_banner_error"')
    assert not Contest.objects.exists()


@pytest.mark.parametrize("slug", ["dashboard", "accounts", "media"])
def test_it_rejects_a_slug_the_site_reserves(alice_client, slug):
    response = alice_client.post("/dashboard/contests/new/", contest_form(slug=slug))
    assert list(response.context["form"].errors) == ["slug"]
    assertContains(response, "is reserved by the site")
    assert not Contest.objects.exists()


def test_it_rejects_a_contest_that_ends_before_it_starts(alice_client):
    response = alice_client.post(
        "/dashboard/contests/new/", contest_form(ends_at="2029-12-31T10:00")
    )
    assert list(response.context["form"].errors) == ["ends_at"]
    assert not Contest.objects.exists()


# ---------------------------------------------------------------- edit


def test_alice_edits_her_contest(alice_client, contest):
    form = contest_form(slug="summer-shorts", name="Summer shorts 2026", prize="Two cameras")
    response = alice_client.post("/dashboard/contests/summer-shorts/edit/", form)
    assertRedirects(response, "/dashboard/contests/summer-shorts/")
    contest.refresh_from_db()
    assert (contest.name, contest.prize) == ("Summer shorts 2026", "Two cameras")


def test_a_new_banner_replaces_the_old_one_in_storage(
    alice_client, contest, django_capture_on_commit_callbacks
):
    contest.banner.save("old.png", png_file())
    old = contest.banner.name
    form = contest_form(slug="summer-shorts", banner=png_file("new.png"))
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post("/dashboard/contests/summer-shorts/edit/", form)
    contest.refresh_from_db()
    assert contest.banner.name != old
    assert default_storage.exists(contest.banner.name)
    assert not default_storage.exists(old)


def test_bob_cannot_edit_alices_contest(bob_client, contest):
    form = contest_form(slug="summer-shorts", name="Bob was here")
    assert bob_client.get("/dashboard/contests/summer-shorts/edit/").status_code == 404
    assert bob_client.post("/dashboard/contests/summer-shorts/edit/", form).status_code == 404
    contest.refresh_from_db()
    assert contest.name == "Summer shorts"


# ---------------------------------------------------------------- delete


def test_alice_deletes_her_contest(alice_client, contest):
    assertContains(alice_client.get("/dashboard/contests/summer-shorts/delete/"), "Delete")
    response = alice_client.post("/dashboard/contests/summer-shorts/delete/")
    assertRedirects(response, "/dashboard/")
    assert not Contest.objects.filter(slug="summer-shorts").exists()


def test_bob_cannot_delete_alices_contest(bob_client, contest):
    assert bob_client.get("/dashboard/contests/summer-shorts/delete/").status_code == 404
    assert bob_client.post("/dashboard/contests/summer-shorts/delete/").status_code == 404
    assert Contest.objects.filter(slug="summer-shorts").exists()


def test_an_anonymous_visitor_cannot_delete_a_contest(client, contest):
    response = client.post("/dashboard/contests/summer-shorts/delete/")
    assertRedirects(response, "/accounts/login/?next=/dashboard/contests/summer-shorts/delete/")
    assert Contest.objects.filter(slug="summer-shorts").exists()
