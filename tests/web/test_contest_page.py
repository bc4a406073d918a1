"""The contest page's header (state, time left, entries, call to action) and its gallery of
thumbnails, in each state of the contest. How it looks and weighs in a browser:
tests/browser/test_contest_page_in_chromium.py."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from tests.web.helpers import html, make_contest, many_ready_videos, png_file, ready_video
from videos import assets

CTA = '<a class="button cta" href="#enter">Enter the contest</a>'
STATES = {
    # days from now to the start and to the end; what the header and an empty gallery say
    "open": (-1, 7, "Open for entries", "No videos yet. Be the first!"),
    "soon": (2, 9, "Not open yet", "Videos will show here once the contest opens."),
    "closed": (-9, -2, "Closed", "No videos were entered in this contest."),
}


@pytest.mark.parametrize("state", STATES)
def test_the_header_and_an_empty_gallery_say_the_contests_state(client, alice, state):
    starts_in, ends_in, status, empty = STATES[state]
    make_contest(alice, "pond-life", starts_in=starts_in, ends_in=ends_in)
    response = client.get("/pond-life/")
    assertContains(response, f'<strong class="status status-{state}">{status}</strong>')
    assertContains(response, f"<p>{empty}</p>")
    assertContains(response, '<li class="count">0 entries</li>')
    for other in set(STATES) - {state}:
        assertNotContains(response, STATES[other][3])


@pytest.mark.parametrize("state", ["soon", "closed"])
def test_only_an_open_contest_invites_entries(client, alice, state):
    starts_in, ends_in, *_ = STATES[state]
    make_contest(alice, "pond-life", starts_in=starts_in, ends_in=ends_in)
    response = client.get("/pond-life/")
    assertNotContains(response, CTA)
    assertNotContains(response, "Time left")
    assertNotContains(response, 'id="entry-form"')


def test_an_open_contest_has_the_call_to_action_and_the_time_left(client, contest):
    response = client.get("/summer-shorts/")
    assertContains(response, CTA)
    assertContains(response, 'id="enter"')  # where the call to action jumps: the form
    ends = timezone.localtime(contest.ends_at).isoformat()
    assert re.search(
        rf'Time left: <span class="time-left" data-ends="{re.escape(ends)}" '
        r'data-closed="This contest is closed for entries.">6\xa0days, 23\xa0hours</span>',
        html(response),
    )


def test_the_dates_are_utc_in_time_elements_for_the_browser_to_localize(client, contest):
    page = html(client.get("/summer-shorts/"))
    for moment in (contest.starts_at, contest.ends_at):
        assert f'<time class="local-time" datetime="{moment.isoformat()}">' in page


def test_the_header_counts_the_entries_shown(client, contest):
    many_ready_videos(contest, 51)
    ready_video(contest, 60, hidden=True)
    assertContains(client.get("/summer-shorts/"), '<li class="count">51 entries</li>')


def test_the_banner_has_its_frames_size(client, contest):
    contest.banner.save("banner.png", png_file())
    assertContains(
        client.get("/summer-shorts/"),
        f'<img class="banner" src="/media/{contest.banner.name}" width="1200" height="400"',
    )


def test_the_first_row_loads_at_once_and_the_rest_lazily(client, contest):
    many_ready_videos(contest, 5)
    page = html(client.get("/summer-shorts/"))
    gallery = page[page.index('<ul class="videos">') :]
    images = re.findall(r"<img [^>]*>", gallery)
    assert ['loading="lazy"' in image for image in images] == [False, False, True, True, True]


def test_a_thumbnailed_entry_offers_both_sizes_and_the_poster_is_the_fallback(client, contest):
    video = ready_video(contest, 0)
    video.assets = assets.folder_for(video)
    video.save(update_fields=["assets"])
    ready_video(contest, 1)
    page = html(client.get("/summer-shorts/"))
    folder = f"/media/entries/{video.id}/"
    assert (
        f'<img src="{folder}thumb-320.jpg" srcset="{folder}thumb-320.jpg 320w, '
        f'{folder}thumb-640.jpg 640w" sizes="(min-width: 900px) 316px,' in page
    )
    assert '<img src="/media/posters/x1.jpg" width="320" height="180" alt=""' in page


def test_an_entry_without_a_known_duration_has_no_badge(client, contest):
    ready_video(contest, 0, duration=None)
    response = client.get("/summer-shorts/")
    assertContains(response, '<span class="name">P0 Q</span>\n')
    assertNotContains(response, 'class="duration"')
    assertNotContains(response, 'class="visually-hidden">, ')


def test_a_message_shows_under_its_entry(client, contest):
    ready_video(contest, 0, message="Filmed at dawn")
    assertContains(client.get("/summer-shorts/"), '<p class="message">Filmed at dawn</p>')


def test_the_page_for_anyone_follows_the_contests_state(client, alice):
    """Visitors' pages are kept rendered: one that opens must not keep saying it is not open."""
    contest = make_contest(alice, "pond-life", starts_in=1, ends_in=8)
    assertContains(client.get("/pond-life/"), "Not open yet")
    contest.starts_at = timezone.now() - timedelta(minutes=1)
    contest.save()
    assertContains(client.get("/pond-life/"), CTA)


# ---------------------------------------------------------------- durations


def render(text: str, seconds) -> str:
    template = Template("{% load media_assets %}" + text)
    return template.render(Context({"seconds": seconds}))


@pytest.mark.parametrize(
    "seconds, shown",
    [(0.4, "0:00"), (7, "0:07"), (65.4, "1:05"), (599.6, "10:00"), (3723, "1:02:03"),
     (None, "")],
)  # fmt: skip
def test_clock_writes_a_duration_as_players_do(seconds, shown):
    assert render("{{ seconds|clock }}", seconds) == shown


@pytest.mark.parametrize(
    "seconds, words",
    [(1, "1 second"), (65, "1 minute 5 seconds"), (120, "2 minutes"),
     (3601, "1 hour 1 second"), (0.2, "0 seconds"), (None, "")],
)  # fmt: skip
def test_duration_words_are_what_a_screen_reader_reads(seconds, words):
    assert render("{{ seconds|duration_words }}", seconds) == words
