"""The contest page with a full page of 50 ready entries, in Chromium against the real service
(gunicorn + worker + ffmpeg), on a desktop and a phone: what it weighs and how many requests
it makes before any scrolling, how much its layout shifts, one Tab stop per entry, portrait
entries letterboxed in the same frame, and its dates in the visitor's time zone. Three
entries are real uploads converted by the worker; the others are made by
tests/browser/gallery_entries.py with real JPEG posters and thumbnails in storage."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser import test_in_chromium as chromium
from tests.browser.test_in_chromium import shot
from tests.e2e.service import open_contest
from tests.media import make_clip

# Chromium and the running service, as the other browser tests have them.
browser, service = chromium.browser, chromium.service

pytestmark = pytest.mark.e2e

SLUG = "gallery-shorts"
ENTRIES = 50
UPLOADS = {"beach.mp4": "640x360", "selfie.avi": "360x640", "garden.flv": "320x240"}
MOST_BYTES = 300 * 1024
MOST_REQUESTS = 14  # under 15
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The sum of the layout shifts the page makes, as Core Web Vitals count them.
LAYOUT_SHIFT = """window.layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.layoutShift += entry.value;
  }
}).observe({ type: "layout-shift", buffered: true });"""


FOCUS_GALLERY_HEADING = """() => {
  const heading = document.getElementById("videos-title");
  heading.tabIndex = -1;
  heading.focus();
}"""
FOCUSED_IN_GALLERY = """() => document.activeElement.closest(".videos")
  ? document.activeElement.getAttribute("href") : null"""
# The gallery's first `count` thumbnails have arrived and are pictures.
THUMBNAILS_SHOWN = """(count) => [...document.querySelectorAll(".videos img")].slice(0, count)
  .every((image) => image.complete && image.naturalWidth > 0)"""
# Down the page a screen at a time, as a visitor would, and back to the top.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise((done) => setTimeout(done, 50));
  }
  scrollTo(0, 0);
}"""


@pytest.fixture(scope="module")
def contest_url(service, tmp_path_factory) -> str:  # noqa: F811
    """An open contest with a banner and 50 ready entries, three of them real uploads."""
    session = open_contest(service.url, SLUG, "Gallery shorts")
    service.manage(
        "shell", "-c", "from tests.browser.gallery_entries import add_banner, add_entries; "
        f"add_banner({SLUG!r}); add_entries({SLUG!r}, {ENTRIES - len(UPLOADS)})",
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("gallery-clips")
    for (name, size), first in zip(UPLOADS.items(), ("Pat", "Ivy", "Noor"), strict=True):
        clip = make_clip(folder / name, seconds=3, size=size)
        with open(clip, "rb") as handle:
            sent = session.post(
                f"{service.url}/api/v1/contests/{SLUG}/videos",
                data={"first_name": first, "last_name": "Real", "email": f"{first}@example.com"},
                files={"file": (name, handle, "application/octet-stream")},
                timeout=60,
            )
        assert sent.status_code == 202, sent.text

    def all_ready_with_thumbnails():
        try:
            listed = requests.get(f"{service.url}/api/v1/contests/{SLUG}/videos", timeout=10)
        except requests.RequestException:  # a busy web process: ask again
            return False
        entries = listed.json()["results"] if listed.status_code == 200 else []
        return len(entries) == ENTRIES and all(entry["thumbnail_urls"] for entry in entries)

    service.wait_until(all_ready_with_thumbnails, 180, "50 ready entries with thumbnails")
    return f"{service.url}/{SLUG}/"


def open_measured(browser, url: str, **context_options):  # noqa: F811
    """The page loaded and settled, with every request it made and anything that went wrong."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.add_init_script(LAYOUT_SHIFT)
    sent, finished, problems = [], [], []
    page.on("request", lambda request: sent.append(request))
    page.on("requestfinished", lambda request: finished.append(request))
    page.on("requestfailed", lambda request: problems.append(f"{request.url} {request.failure}"))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(answer.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: console_problem(message) and problems.append(message.text))
    page.goto(url, wait_until="load", timeout=30_000)
    page.wait_for_load_state("networkidle", timeout=30_000)
    assert len(finished) == len(sent), [request.url for request in sent]
    return page, finished, problems


def console_problem(message) -> bool:
    """An error in the console: the Content-Security-Policy's refusals, among others (a
    missing /favicon.ico, which the browser asks for by itself, too)."""
    return message.type == "error"


def weight(finished) -> int:
    """Bytes on the wire: each response's headers and (compressed) body."""
    return sum(
        sizes["responseHeadersSize"] + sizes["responseBodySize"]
        for sizes in (request.sizes() for request in finished)
    )


def gallery_tab_stops(page) -> list[str]:
    """Where Tab goes from the gallery's heading until it leaves the gallery."""
    page.evaluate(FOCUS_GALLERY_HEADING)
    stops = []
    for _ in range(ENTRIES * 3):
        page.keyboard.press("Tab")
        href = page.evaluate(FOCUSED_IN_GALLERY)
        if href is None:
            return stops
        stops.append(href)
    return stops


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_full_page_is_light_steady_and_one_tab_stop_per_entry(
    browser,  # noqa: F811
    contest_url,
    viewport,
    locale,
):
    page, finished, problems = open_measured(browser, contest_url, viewport=viewport, locale=locale)
    cards = page.locator(".videos li.video")
    assert cards.count() == ENTRIES
    assert page.locator(".videos video").count() == 0
    bytes_, count, shift = weight(finished), len(finished), page.evaluate("window.layoutShift")
    print(f"{locale} {viewport}: {bytes_} bytes, {count} requests, layout shift {shift:.4f}")
    assert not problems
    assert count <= MOST_REQUESTS, [request.url for request in finished]
    assert bytes_ < MOST_BYTES
    assert shift < 0.1
    # Scrolled to the end, every thumbnail arrives (nothing was left out to pass the above).
    page.evaluate(SCROLL_THROUGH)
    page.wait_for_function(THUMBNAILS_SHOWN, arg=ENTRIES, timeout=30_000)
    assert not problems

    stops = gallery_tab_stops(page)
    hrefs = [cards.nth(n).locator("a").get_attribute("href") for n in range(ENTRIES)]
    assert stops == hrefs
    # Each link's accessible name: the participant and the duration (in words, with a number).
    names = re.findall(r'- link "(.+?)"', page.locator(".videos").aria_snapshot())
    participants = cards.locator(".name").all_inner_texts()
    assert len(names) == len(participants) == ENTRIES
    for name, participant in zip(names, participants, strict=True):
        assert participant in name and re.search(r"\d", name.replace(participant, "")), name
    page.context.close()


def test_every_entry_has_the_same_16_9_frame_portrait_ones_letterboxed(browser, contest_url):  # noqa: F811
    page, _, problems = open_measured(browser, contest_url, viewport=DESKTOP)
    frames = page.eval_on_selector_all(
        ".videos .frame", "frames => frames.map(f => [f.offsetWidth, f.offsetHeight])"
    )
    assert len(set(map(tuple, frames))) == 1
    width, height = frames[0]
    assert abs(width / height - 16 / 9) < 0.02
    selfie = page.locator(".video", has_text="Ivy Real")
    natural = selfie.locator("img").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert natural[0] < natural[1]  # a portrait thumbnail, shown whole in the landscape frame
    assert selfie.locator("img").evaluate("i => getComputedStyle(i).objectFit") == "contain"
    assert selfie.locator(".duration").inner_text() == "0:03"
    assert not problems
    shoot_top_and_gallery(page, "contest-page", "contest-gallery", thumbnails=6)
    page.context.close()


def test_the_phone_layout_is_one_column_without_sideways_scrolling(browser, contest_url):  # noqa: F811
    for width in (360, 390):
        page, _, problems = open_measured(
            browser, contest_url, viewport={"width": width, "height": 844}, is_mobile=True
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        lefts = page.eval_on_selector_all(".videos li", "items => items.map(i => i.offsetLeft)")
        assert len(set(lefts)) == 1
        assert not problems
        if width == 390:
            shoot_top_and_gallery(page, "contest-page-phone", "contest-gallery-phone", thumbnails=3)
        page.context.close()


def test_the_call_to_action_jumps_to_the_form(browser, contest_url):  # noqa: F811
    page, _, _ = open_measured(browser, contest_url, viewport=PHONE)
    page.get_by_role("link", name="Enter the contest").click()
    page.wait_for_function("() => location.hash === '#enter'", timeout=10_000)
    assert page.get_by_label("First name").is_visible()
    assert page.locator("#enter").evaluate("e => e.getBoundingClientRect().top") < 50
    page.context.close()


def test_dates_and_time_left_are_in_the_visitors_time_zone_and_language(browser, contest_url):  # noqa: F811
    zone = "America/Mexico_City"
    page, _, problems = open_measured(
        browser, contest_url, viewport=DESKTOP, locale="es-ES", timezone_id=zone
    )
    ends = page.locator("time.local-time").last
    moment = datetime.fromisoformat(ends.get_attribute("datetime")).astimezone(ZoneInfo(zone))
    assert f"{moment.hour}:{moment.minute:02}" in ends.inner_text()
    assert "UTC" not in ends.inner_text()
    # The contest ends in a day (open_contest): about 23 hours left, in Spanish.
    left = page.locator(".time-left").inner_text()
    assert re.fullmatch(r"2\d\s+horas(, \d+\s+minutos?)?", left), left
    assert "Participa en el concurso" in page.content()
    assert not problems
    shot(page, "contest-page-es", full_page=False)
    page.context.close()


def test_without_javascript_the_page_says_the_same_in_utc(browser, contest_url):  # noqa: F811
    page, _, problems = open_measured(
        browser, contest_url, viewport=DESKTOP, java_script_enabled=False
    )
    assert page.locator("time.local-time").last.inner_text().endswith("UTC")
    left = page.locator(".time-left").inner_text()
    assert re.fullmatch(r"2\d\s+hours(, \d+\s+minutes?)?", left), left
    assert page.locator(".videos a.watch").count() == ENTRIES
    assert not problems
    page.context.close()


def shoot_top_and_gallery(page, top: str, gallery: str, *, thumbnails: int) -> None:
    """The docs' screenshots: the first screen, then the screen from the gallery's heading
    once its first thumbnails have arrived."""
    shot(page, top, full_page=False)
    page.evaluate("document.getElementById('videos-title').scrollIntoView()")
    page.wait_for_function(THUMBNAILS_SHOWN, arg=thumbnails, timeout=30_000)
    shot(page, gallery, full_page=False)
