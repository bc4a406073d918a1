"""The public pages: the home page, a contest's page and one video's page."""

import pytest
from django.utils import formats, timezone
from pytest_django.asserts import assertContains, assertNotContains

from tests.web.helpers import EMAIL, html, make_contest, many_ready_videos, png_file, ready_video
from videos.models import Video

# ---------------------------------------------------------------- home


def test_home_lists_contests_open_now(client, contest):
    response = client.get("/")
    assertContains(response, "Summer shorts")
    assertContains(response, 'href="/summer-shorts/"')


def test_home_leaves_out_contests_not_started_or_ended(client, alice):
    make_contest(alice, "not-yet", name="Not yet", starts_in=1, ends_in=8)
    make_contest(alice, "all-over", name="All over", starts_in=-8, ends_in=-1)
    response = client.get("/")
    assertNotContains(response, "Not yet")
    assertNotContains(response, "All over")
    assertContains(response, "No contest is open right now.")


# ---------------------------------------------------------------- contest page


def test_the_contest_page_shows_name_prize_dates_and_description(client, contest):
    response = client.get("/summer-shorts/")
    assertContains(response, "<h1>Summer shorts</h1>", html=True)
    assertContains(response, "Prize: A camera")
    assertContains(response, "Show us your summer.")
    for moment in (contest.starts_at, contest.ends_at):
        assertContains(response, formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT"))


def test_the_contest_page_shows_the_banner(client, contest):
    contest.banner.save("banner.png", png_file())
    response = client.get("/summer-shorts/")
    assertContains(response, f'<img class="banner" src="/media/{contest.banner.name}"')


def test_the_contest_page_lists_only_ready_and_shown_videos(client, contest):
    shown = ready_video(contest, 0)
    others = [
        ready_video(contest, 1, hidden=True),
        ready_video(contest, 2, status=Video.Status.QUEUED, converted="", poster=""),
        ready_video(contest, 3, status=Video.Status.FAILED, failure_reason="No video stream."),
    ]
    page = html(client.get("/summer-shorts/"))
    assert f'id="video-{shown.id}"' in page
    assert not [video for video in others if str(video.id) in page]


def test_each_video_is_a_picture_linking_to_its_page_with_name_and_duration(client, contest):
    video = ready_video(contest, 0, duration=65.4)
    response = client.get("/summer-shorts/")
    assertContains(response, f'<a class="watch" href="/summer-shorts/videos/{video.id}/">')
    # Its name for a screen reader: who, then how long, in words.
    assertContains(
        response,
        '<span class="name">P0 Q</span><span class="visually-hidden">, 1 minute 5 seconds</span>',
    )
    assertContains(response, '<img src="/media/posters/x0.jpg" width="320" height="180" alt=""')
    assertContains(response, '<span class="duration" aria-hidden="true">1:05</span>')
    assertContains(response, '<span class="name">P0 Q</span>')
    # Played on its own page: no player, no MP4 in the gallery.
    assertNotContains(response, "<video")
    assertNotContains(response, "/media/videos/x0.mp4")


def test_the_contest_page_shows_50_videos_and_links_to_page_2(client, contest):
    many_ready_videos(contest, 51)
    first = client.get("/summer-shorts/")
    assertContains(first, '<a class="watch" href=', count=50)
    assertContains(first, 'href="?page=2"')
    assertContains(client.get("/summer-shorts/?page=2"), '<a class="watch" href=', count=1)


def test_the_contest_page_never_shows_a_participants_email(client, contest):
    many_ready_videos(contest, 51, message="Thanks!")
    ready_video(contest, 60, hidden=True)
    ready_video(contest, 61, status=Video.Status.FAILED, failure_reason="Broken.")
    for url in ("/summer-shorts/", "/summer-shorts/?page=2"):
        page = html(client.get(url))
        assert EMAIL.findall(page) == []


def test_an_unknown_contest_is_404(client, db):
    assert client.get("/no-such-contest/").status_code == 404


# ---------------------------------------------------------------- video page


@pytest.mark.parametrize("who", ["anonymous", "alice", "bob"])
def test_a_ready_shown_video_is_visible_to_everyone(browsers, contest, who):
    video = ready_video(contest, 0)
    response = browsers[who].get(f"/summer-shorts/videos/{video.id}/")
    assertContains(response, "<h1>P0 Q</h1>", html=True)
    assertContains(response, '<source src="/media/videos/x0.mp4" type="video/mp4">')
    assert EMAIL.findall(html(response)) == []


HIDDEN_OR_QUEUED = {
    "hidden": {"hidden": True},
    "queued": {"status": Video.Status.QUEUED, "converted": "", "poster": ""},
}


@pytest.mark.parametrize("state", HIDDEN_OR_QUEUED)
@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_it_hides_a_hidden_or_queued_video_from_others(browsers, contest, state, who):
    video = ready_video(contest, 0, **HIDDEN_OR_QUEUED[state])
    response = browsers[who].get(f"/summer-shorts/videos/{video.id}/")
    assert response.status_code == 404


@pytest.mark.parametrize("state", HIDDEN_OR_QUEUED)
def test_the_organizer_sees_her_hidden_or_queued_video(alice_client, contest, state):
    video = ready_video(contest, 0, **HIDDEN_OR_QUEUED[state])
    response = alice_client.get(f"/summer-shorts/videos/{video.id}/")
    assertContains(response, "<h1>P0 Q</h1>", html=True)


def test_a_video_under_another_contests_address_is_404(client, contest, bob_contest):
    video = ready_video(contest, 0)
    assert client.get(f"/bobs-contest/videos/{video.id}/").status_code == 404
    assert client.get(f"/no-such-contest/videos/{video.id}/").status_code == 404
