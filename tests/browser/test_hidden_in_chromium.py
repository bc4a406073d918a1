"""Hiding an entry in a real browser, against the real service (gunicorn + worker + ffmpeg): the
MP4 a visitor's player was given stops answering, and the organizer still plays the entry."""

import pytest

from tests.browser import test_in_chromium as chromium
from tests.browser.test_in_chromium import (
    ENGLISH,
    LINK,
    new_page,
    sign_up_and_create_contest,
    upload_watching_progress,
    video_plays,
)

# Chromium, the running service and the clip, as the other browser tests have them.
browser, service, clip = chromium.browser, chromium.service, chromium.clip

pytestmark = pytest.mark.e2e


def test_a_hidden_entry_stops_playing_for_visitors_and_plays_for_its_organizer(  # noqa: F811
    browser, service, clip, tmp_path
):
    organizer = new_page(browser)
    sign_up_and_create_contest(organizer, service, "hidden-shorts", tmp_path)
    visitor = new_page(browser)
    upload_watching_progress(visitor, service, "hidden-shorts", clip, "kim@example.com", ENGLISH)
    (email,) = service.wait_until(lambda: service.emails_to("kim@example.com"), 120, "the email")
    page_url = LINK.search(email.get_body(("plain",)).get_content()).group(1)

    visitor.goto(page_url)
    assert video_plays(visitor) > 0.5
    mp4_url = visitor.locator("video.player").evaluate("video => video.currentSrc")
    poster_url = visitor.locator("video.player").get_attribute("poster")
    assert "/media/videos/" in mp4_url
    assert visitor.request.get(mp4_url).status == 200

    organizer.goto(f"{service.url}/dashboard/contests/hidden-shorts/")
    organizer.get_by_role("button", name="Hide").click()
    organizer.wait_for_selector("text=hidden")

    # The link the visitor's player holds is dead at once, range requests included.
    assert visitor.request.get(mp4_url).status == 404
    assert visitor.request.get(mp4_url, headers={"Range": "bytes=0-1023"}).status == 404
    assert visitor.request.get(service.url + poster_url).status == 404
    assert visitor.goto(page_url).status == 404

    # The organizer moderates it: the entry's page plays it from its private address.
    organizer.goto(page_url)
    assert video_plays(organizer) > 0.5
    hidden_src = organizer.locator("video.player").evaluate("video => video.currentSrc")
    assert "/media/hidden/videos/" in hidden_src
    assert visitor.request.get(hidden_src).status == 404
