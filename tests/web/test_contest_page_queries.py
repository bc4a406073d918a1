"""Reading a large contest: its public page and its API list take the same few queries on any
page, and what they keep rendered never outlives a change of what they show."""

import re
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from contests import services as contest_services
from contests.views import CSRF_STAND_IN
from tests.conftest import client_for
from tests.web.helpers import (
    big_contest_entries,
    entry_form,
    make_contest,
    many_ready_videos,
    ready_video,
)
from videos import public_list, services
from videos.models import Video

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
API = "/api/v1/contests/summer-shorts/videos"


@pytest.fixture(autouse=True)
def no_rendered_pages():
    """Each test starts with nothing rendered, so the first request reads the database."""
    caches[public_list.CACHE].clear()
    yield
    caches[public_list.CACHE].clear()


@pytest.fixture
def big_contest(contest):
    """10,000 ready, shown entries, plus hidden and failed ones the public never sees."""
    big_contest_entries(contest, 10_000, 40)
    return contest


def queries(client, url, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response


def names_on(response) -> list[str]:
    return re.findall(r'<li class="video" id="video-([0-9a-f-]+)"', response.content.decode())


# ---------------------------------------------------------------- queries


def test_any_page_of_a_large_contest_takes_the_same_few_queries(client, big_contest):
    for url in ("/summer-shorts/", "/summer-shorts/?page=100", "/summer-shorts/?page=200"):
        first, response = queries(client, url)
        assert first <= 4  # contest, count (once for every page), the page's ids, its rows
        assertContains(response, '<li class="video"', count=50)
        again, _ = queries(client, url)
        assert again == 1  # the contest: the rest was rendered once for this version


def test_any_page_of_the_api_list_takes_the_same_few_queries(api, big_contest):
    for page in (1, 100, 200):
        first, response = queries(api, f"{API}?page={page}")
        assert first <= 4
        assert response.json()["count"] == 10_000 and len(response.json()["results"]) == 50
        again, _ = queries(api, f"{API}?page={page}")
        assert again == 1


def test_organizers_read_any_page_in_the_same_few_queries(alice, alice_client, big_contest):
    organizer = client_for(alice)
    counts = set()
    for page in (1, 100, 200, 202):
        count, response = queries(organizer, f"{API}?page={page}")
        counts.add(count)
        assert response.json()["count"] == 10_080
    assert counts == {5}  # token, contest, count, the page's ids, its rows; nothing kept
    pages = {queries(alice_client, f"/summer-shorts/?page={page}")[0] for page in (1, 200)}
    assert max(pages) <= 6  # session, user, contest, count, ids, rows


# ---------------------------------------------------------------- what the pages show


def test_page_200_shows_the_oldest_entries_newest_first(client, api, big_contest):
    public = Video.objects.filter(contest=big_contest, status="ready", hidden=False)
    ordered = public.order_by("-created_at", "-id").values_list("pk", flat=True)
    response = client.get("/summer-shorts/?page=200")
    assert names_on(response) == [str(pk) for pk in ordered[9950:]]
    assertContains(response, "Page 200 of 200")
    assertContains(response, 'href="?page=199"')
    assertNotContains(response, "Older")
    listed = api.get(f"{API}?page=200").json()["results"]
    assert [item["id"] for item in listed] == names_on(response)


def test_the_page_number_is_read_as_before(client, contest):
    many_ready_videos(contest, 120)
    assertContains(client.get("/summer-shorts/?page=abc"), "Page 1 of 3")
    assertContains(client.get("/summer-shorts/?page=99"), "Page 3 of 3")
    assertContains(client.get("/summer-shorts/?page=3"), '<li class="video"', count=20)


def test_the_api_keeps_its_pages_and_their_shape(api, contest):
    many_ready_videos(contest, 120)
    second = api.get(f"{API}?page=2").json()
    assert set(second) == {"count", "next", "previous", "results"}
    assert second["count"] == 120 and len(second["results"]) == 50
    assert second["next"].endswith("?page=3") and second["previous"].endswith(API)
    last = api.get(f"{API}?page=last").json()
    assert len(last["results"]) == 20 and last["next"] is None
    assert api.get(f"{API}?page=4").status_code == 404
    assert api.get(f"{API}?page=abc").status_code == 404
    assert api.get(f"{API}?page=2").json() == second  # the same answer, kept


# ---------------------------------------------------------------- what changes the pages


def test_an_entry_that_becomes_ready_shows_at_once(client, api, contest, clips):
    many_ready_videos(contest, 3)
    assertContains(client.get("/summer-shorts/"), "Videos (3)")
    assert api.get(API).json()["count"] == 3
    video = queued_entry(contest, clips[".avi"])
    assert services.video_convert(video_id=video.id) is not None
    page = client.get("/summer-shorts/")
    assertContains(page, "Videos (4)")
    assert names_on(page)[0] == str(video.id)
    assert api.get(API).json()["results"][0]["id"] == str(video.id)


def test_hiding_and_showing_an_entry_changes_every_page_at_once(client, api, contest):
    entries = many_ready_videos(contest, 60)
    video = Video.objects.get(pk=entries[0].pk)
    for url in ("/summer-shorts/", "/summer-shorts/?page=2"):
        client.get(url)
    listed = [item["id"] for item in api.get(f"{API}?page=2").json()["results"]]
    services.video_set_hidden(video=video, hidden=True)
    assert str(video.id) not in names_on(client.get("/summer-shorts/")) + names_on(
        client.get("/summer-shorts/?page=2")
    )
    assertContains(client.get("/summer-shorts/"), "Videos (59)")
    assert str(video.id) not in [item["id"] for item in api.get(f"{API}?page=2").json()["results"]]
    services.video_set_hidden(video=video, hidden=False)
    assertContains(client.get("/summer-shorts/"), "Videos (60)")
    assert [item["id"] for item in api.get(f"{API}?page=2").json()["results"]] == listed


def test_an_edit_of_the_contest_shows_at_once(client, contest):
    ready_video(contest)
    assertContains(client.get("/summer-shorts/"), "<h1>Summer shorts</h1>", html=True)
    contest_services.contest_update(contest=contest, name="Summer stories", prize="Two cameras")
    page = client.get("/summer-shorts/")
    assertContains(page, "<h1>Summer stories</h1>", html=True)
    assertContains(page, "Two cameras")


def test_a_deleted_contest_is_gone_at_once(client, api, contest):
    ready_video(contest)
    assert client.get("/summer-shorts/").status_code == 200
    assert api.get(API).status_code == 200
    contest_services.contest_delete(contest=contest)
    assert client.get("/summer-shorts/").status_code == 404
    assert api.get(API).status_code == 404


def test_a_contest_that_opens_while_its_page_is_kept_shows_the_form(client, alice):
    make_contest(
        alice, "soon", starts_in=0, ends_in=7, starts_at=timezone.now() + timedelta(seconds=2)
    )
    assertContains(client.get("/soon/"), "This contest opens on")
    deadline = time.monotonic() + 30
    while not Client().get("/soon/").content.count(b'id="entry-form"'):
        assert time.monotonic() < deadline, "the page still says the contest is not open"
        time.sleep(0.2)
    assertNotContains(client.get("/soon/"), "This contest opens on")


# ---------------------------------------------------------------- one page, many visitors


def test_each_visitor_gets_a_csrf_token_of_their_own_that_works(contest):
    ready_video(contest)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one = CSRF_FIELD.findall(first.get("/summer-shorts/").content.decode())
    count, page = queries(second, "/summer-shorts/")
    two = CSRF_FIELD.findall(page.content.decode())
    assert count == 1  # the second visitor's page was the one kept
    assert len(set(one)) == 1 and len(set(two)) == 1 and one[0] != two[0]
    assert CSRF_STAND_IN not in page.content.decode()
    switched = second.post(
        "/i18n/setlang/", {"language": "es", "next": "/summer-shorts/",
                           "csrfmiddlewaretoken": two[0]},
    )  # fmt: skip
    assert switched.status_code == 302


def test_a_participant_still_sees_their_thanks(client, contest, clips):
    Client().get("/summer-shorts/")  # kept for anyone
    client.post("/summer-shorts/", entry_form(clips[".avi"]))
    thanks = '<li class="success">Thank you! We received your video.'
    assertContains(client.get("/summer-shorts/"), thanks)
    assertNotContains(client.get("/summer-shorts/"), thanks)  # said once


def test_an_organizer_is_not_shown_the_anonymous_page(client, alice_client, contest):
    ready_video(contest)
    assertContains(client.get("/summer-shorts/"), "Log in")
    page = alice_client.get("/summer-shorts/")
    assertContains(page, "My contests")
    assertNotContains(page, "Log in")


def test_each_language_has_its_own_page(client, contest):
    ready_video(contest)
    assertContains(client.get("/summer-shorts/"), "Enter the contest")
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es").get("/summer-shorts/")
    assertContains(spanish, "Participa en el concurso")
    assertContains(spanish, '<html lang="es">')
    assertContains(client.get("/summer-shorts/"), "Enter the contest")


def queued_entry(contest, path) -> Video:
    """An entry as video_submit leaves it: its original stored, the row queued."""
    from django.core.files import File

    with open(path, "rb") as handle:
        video = Video(contest=contest, first_name="Ana", last_name="Diaz",
                      email="ana@example.com", email_key="ana@example.com",
                      original_name=path.name, enqueued_at=timezone.now())  # fmt: skip
        video.original.save(f"originals/{video.id}{path.suffix}", File(handle), save=False)
    video.save()
    return video
