"""An entry's HLS stream in a real browser, against the real service (gunicorn + worker +
ffmpeg): the video page plays it, through Chromium's own HLS and through hls.js (what browsers
without native HLS get), with sound, and Plyr shows the storyboard while scrubbing. Nothing is
fetched from anywhere but the site, and nothing breaks the Content-Security-Policy."""

import time

import pytest
import requests

from tests.browser import test_in_chromium as chromium
from tests.browser.test_in_chromium import new_page
from tests.e2e.service import open_contest
from tests.media import make_clip
from videos import services

# Chromium and the running service, as the other browser tests have them.
browser, service = chromium.browser, chromium.service

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not hasattr(services, "video_make_streams"), reason="no stream maker (services)"
    ),
]

# A browser without native HLS: what Firefox and older Chromium say.
WITHOUT_NATIVE_HLS = """HTMLMediaElement.prototype.canPlayType = (function (original) {
  return function (type) { return type.includes("mpegurl") ? "" : original.call(this, type); };
})(HTMLMediaElement.prototype.canPlayType);"""
# What the page's policy refused, if anything.
VIOLATIONS = """window.violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.violations.push(event.violatedDirective + " " + event.blockedURI));"""


def api_entry(session: requests.Session, url: str) -> dict | None:
    try:
        answer = session.get(url, timeout=10)
    except requests.RequestException:  # a busy web process: ask again
        return None
    return answer.json() if answer.status_code == 200 else None


@pytest.fixture(scope="module")
def entry(service, tmp_path_factory) -> dict:  # noqa: F811
    """A real entry with its stream and storyboard made, as the API gives it."""
    session = open_contest(service.url, "streamed-shorts", "Streamed shorts")
    # Large enough for the smaller rendition, long enough for several segments and frames.
    clip = make_clip(tmp_path_factory.mktemp("streams") / "beach.mp4", seconds=8, size="854x480")
    fields = {"first_name": "Sam", "last_name": "Cho", "email": "sam@example.com"}
    with open(clip, "rb") as handle:
        sent = session.post(
            f"{service.url}/api/v1/contests/streamed-shorts/videos",
            data=fields,
            files={"file": (clip.name, handle, "video/mp4")},
            timeout=60,
        )
    assert sent.status_code == 202, sent.text
    url = f"{service.url}/api/v1/videos/{sent.json()['id']}"

    def streamed():
        found = api_entry(session, url)
        return found if found and found["stream_url"] and found["storyboard_url"] else None

    return service.wait_until(streamed, 180, "the entry's stream")


def previewed_image(page) -> str:
    """The image Plyr's preview shows while the pointer moves over the progress bar."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        # Measured each time: Plyr slides its controls away while the pointer rests.
        box = page.locator(".plyr__progress input[type=range]").bounding_box()
        for fraction in (0.3, 0.6):
            page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
            page.wait_for_timeout(200)
        shown = page.evaluate(
            "() => document.querySelector('.plyr__preview-thumb__image-container img')?.src"
        )
        if shown:
            return shown
    return ""


@pytest.mark.parametrize("route", ["native HLS", "hls.js"])
def test_the_video_page_plays_the_stream_and_previews_the_storyboard(  # noqa: F811
    browser, service, entry, route
):
    page = new_page(browser)
    if route == "hls.js":
        page.add_init_script(WITHOUT_NATIVE_HLS)
    page.add_init_script(VIOLATIONS)
    asked, failed = [], []
    page.on("request", lambda request: asked.append(request.url))
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    assert page.goto(entry["page_url"]).status == 200
    assert page.evaluate("Boolean(window.Plyr)")
    native = "document.createElement('video').canPlayType('application/vnd.apple.mpegurl')"
    if route == "native HLS" and not page.evaluate(native):
        pytest.skip("this Chromium has no HLS of its own")

    player = page.locator("video.player")
    player.evaluate("video => { video.muted = true; return video.play(); }")
    page.wait_for_function(
        "() => document.querySelector('video.player').currentTime > 1.5", timeout=30_000
    )
    folder = entry["stream_url"].rsplit("/", 1)[0] + "/"
    assert any(url.startswith(folder) and url.endswith(".m4s") for url in asked)
    source = player.evaluate("video => video.currentSrc")
    if route == "hls.js":
        assert source.startswith("blob:")  # Media Source Extensions
        assert any("/static/vendor/hls.js-1.7.4/hls.min." in url for url in asked)
    else:
        assert source == entry["stream_url"]
        assert not any("/vendor/hls.js" in url for url in asked)  # not downloaded for nothing
    # The shared audio playlist plays too.
    assert player.evaluate("video => video.webkitAudioDecodedByteCount") > 0

    # Hovering over the progress bar shows a frame of the storyboard's sprite.
    player.evaluate("video => video.pause()")
    assert previewed_image(page).startswith(folder + "storyboard.jpg")
    assert entry["storyboard_url"] in asked

    assert all(url.startswith((service.url, "blob:", "data:")) for url in asked)  # no CDN
    assert [(url, why) for url, why in failed if why != "net::ERR_ABORTED"] == []
    assert page.evaluate("window.violations") == []
