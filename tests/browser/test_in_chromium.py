"""The pages as people use them: headless Chromium (Debian's) driven by Playwright.

Runs against the real service (gunicorn + Celery worker + ffmpeg). Screenshots of the main
pages are refreshed into docs/screenshots/ on every run.
"""

import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.service import ROOT, Service, open_contest
from tests.media import make_clip, make_noisy_clip
from tests.servers import unavailable

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "docs" / "screenshots"
LINK = re.compile(r"(http://\S+/videos/[0-9a-f-]{36}/)")
CONFIRMATION_LINK = re.compile(r"http://\S+/accounts/confirm/[^/\s]+/")
# The upload is slowed to this many bytes a second so the progress bar can be watched.
UPLOAD_BYTES_PER_SECOND = 400_000


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        unavailable("Chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("browser-service")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def walk_in(service) -> str:
    """An open contest of the module's own, made through the API: the slug."""
    open_contest(service.url, "walk-in-shorts", "Walk-in shorts", email="wanda@example.com")
    return "walk-in-shorts"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("browser-clips") / "holiday.avi", seconds=3)


def new_page(browser, locale="en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    return context.new_page()


def shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def sign_up_and_create_contest(page, service, slug: str, tmp_path: Path) -> None:
    address = f"olga-{slug}@example.com"
    page.goto(f"{service.url}/accounts/signup/")
    page.get_by_label("Name").fill("Olga Organizer")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/done/")  # the same page whether the address was taken
    page.goto(f"{service.url}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("button", name="Send the link again").is_visible()
    # Her contests take entries once she follows the link emailed to her.
    (message,) = service.wait_until(lambda: service.emails_to(address), 30, "the link")
    page.goto(CONFIRMATION_LINK.search(message.get_content())[0])
    page.get_by_role("button", name="Confirm my address").click()
    page.wait_for_selector("text=Email address confirmed")
    page.get_by_role("link", name="Go to my contests").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("button", name="Send the link again").count() == 0
    page.get_by_role("link", name="New contest").click()
    banner = tmp_path / "banner.png"
    make_banner(banner)
    page.get_by_label("Name").fill("Summer shorts")
    page.get_by_label("Address (URL)").fill(slug)
    page.get_by_label("Banner").set_input_files(str(banner))
    # The chosen banner shows before saving.
    page.wait_for_function("() => document.querySelector('#banner-preview').naturalWidth === 1200")
    now = datetime.now(UTC)
    page.get_by_label("Starts at").fill((now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends at").fill((now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Prize").fill("A camera")
    page.get_by_label("Description").fill("Show us your summer in one minute.")
    shot(page, "contest-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/dashboard/contests/{slug}/")


def make_banner(path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 400), (91, 61, 245))
    ImageDraw.Draw(image).rectangle((40, 40, 1160, 360), outline=(255, 255, 255), width=8)
    image.save(path)


def slow_uploads(page, bytes_per_second: int) -> None:
    """The page's connection sends this many bytes a second (Chromium's own throttling)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1,
         "uploadThroughput": bytes_per_second},
    )  # fmt: skip


def upload_watching_progress(page, service, slug: str, clip: Path, email: str, texts: dict):
    page.goto(f"{service.url}/{slug}/")
    slow_uploads(page, UPLOAD_BYTES_PER_SECOND)
    # Record every value the progress bar takes.
    page.evaluate(
        """() => { window.progressSeen = [];
        const bar = document.querySelector('.upload-progress progress');
        new MutationObserver(() => window.progressSeen.push(bar.value))
          .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']}); }"""
    )
    page.get_by_label(texts["first"]).fill("Pat")
    page.get_by_label(texts["last"]).fill("Lee")
    page.get_by_label(texts["email"]).fill(email)
    page.get_by_label(texts["message"]).fill("Filmed on my old camera")
    page.get_by_label(texts["file"]).set_input_files(str(clip))
    page.get_by_role("button", name=texts["upload"]).click()
    page.wait_for_selector(".upload-progress:not([hidden])")
    page.wait_for_function("() => window.progressSeen.some(v => v > 0 && v < 100)", timeout=30_000)
    shot(page, f"upload-progress-{texts['lang']}")
    page.wait_for_selector(".upload-result.ok", timeout=60_000)
    assert page.locator(".entry-state").inner_text() in (texts["converting"], texts["ready"])
    seen = page.evaluate("window.progressSeen")
    assert max(seen) == 100
    assert page.locator("progress").evaluate("bar => bar.value") == 100
    assert texts["sent"] in page.locator(".upload-result").inner_text()
    # The form gives way to the result, which has the focus, and a way to send another.
    assert page.evaluate("document.activeElement.classList.contains('upload-result')")
    assert page.get_by_label(texts["email"]).is_hidden()
    assert page.get_by_role("button", name=texts["another"]).is_visible()
    return seen


def video_plays(page) -> float:
    player = page.locator("video.player")
    player.evaluate("video => { video.muted = true; return video.play(); }")
    page.wait_for_function(
        "() => document.querySelector('video.player').currentTime > 0.5", timeout=30_000
    )
    return player.evaluate("video => video.currentTime")


ENGLISH = {
    "lang": "en", "first": "First name", "last": "Last name", "email": "Email",
    "message": "Message", "file": "Video file", "upload": "Upload video",
    "sent": "We received your video", "another": "Upload another video",
    "converting": "Converting your video…", "ready": "Ready",
}  # fmt: skip
SPANISH = {
    "lang": "es", "first": "Nombre", "last": "Apellido", "email": "Correo electrónico",
    "message": "Mensaje", "file": "Archivo de video", "upload": "Subir video",
    "sent": "Recibimos tu video", "another": "Subir otro video",
    "converting": "Convirtiendo tu video…", "ready": "Listo",
}  # fmt: skip


def test_an_organizer_and_a_participant_in_english(browser, service, clip, tmp_path):
    organizer = new_page(browser)
    sign_up_and_create_contest(organizer, service, "summer-shorts", tmp_path)
    assert organizer.locator("#entries tr[data-id]").count() == 0

    participant = new_page(browser)
    seen = upload_watching_progress(
        participant, service, "summer-shorts", clip, "pat@example.com", ENGLISH
    )
    assert any(0 < value < 100 for value in seen)

    # The organizer's open list shows the new entry and its state without a manual reload.
    organizer.wait_for_selector("#entries tr[data-id] .state-ready", timeout=120_000)
    assert organizer.locator(".thumb").count() == 1
    assert organizer.locator("a.mp4").count() == 1
    shot(organizer, "dashboard-entries")

    (email,) = service.wait_until(lambda: service.emails_to("pat@example.com"), 60, "the email")
    assert "is ready" in email["Subject"]
    link = LINK.search(email.get_body(("plain",)).get_content()).group(1)
    # The page it was sent from follows the entry: converting, then ready with its link.
    participant.wait_for_selector(".entry-state .state-ready", timeout=30_000)
    assert participant.get_by_role("link", name="Watch your video").get_attribute("href") == link
    participant.goto(link)
    assert video_plays(participant) > 0.5
    assert participant.locator("meta[property='og:image']").get_attribute("content")
    shot(participant, "video-page")

    participant.goto(f"{service.url}/summer-shorts/")
    assert participant.locator("li.video").count() == 1
    participant.goto(f"{service.url}/")
    shot(participant, "home")

    # Hiding the entry takes it off the public page.
    organizer.get_by_role("button", name="Hide").click()
    organizer.wait_for_selector("text=hidden")
    participant.goto(f"{service.url}/summer-shorts/")
    assert participant.locator("li.video").count() == 0


def test_a_participant_in_spanish(browser, service, clip, tmp_path):
    organizer = new_page(browser)
    sign_up_and_create_contest(organizer, service, "cortos-de-verano", tmp_path)

    participant = new_page(browser, locale="es-ES")
    participant.goto(f"{service.url}/cortos-de-verano/")
    assert "Participa en el concurso" in participant.content()
    upload_watching_progress(
        participant, service, "cortos-de-verano", clip, "ana@example.com", SPANISH
    )
    (email,) = service.wait_until(lambda: service.emails_to("ana@example.com"), 120, "el correo")
    assert email["Subject"] == "Tu video para «Summer shorts» está listo"
    participant.goto(LINK.search(email.get_body(("plain",)).get_content()).group(1))
    assert "Comparte este video" in participant.content()
    assert video_plays(participant) > 0.5
    shot(participant, "video-page-es")


def test_the_layout_fits_a_phone(browser, service, walk_in):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{service.url}/{walk_in}/")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow


def test_the_browser_checks_the_file_before_sending(browser, service, walk_in, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page = new_page(browser)
    page.goto(f"{service.url}/{walk_in}/")
    requests_sent = []
    page.on("request", lambda request: request.method == "POST" and requests_sent.append(request))
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email").fill("check@example.com")
    page.get_by_label("Video file").set_input_files(str(notes))
    page.get_by_role("button", name="Upload video").click()
    error = page.locator("#id_file_error")
    error.wait_for()
    assert "Choose a video file" in error.inner_text()
    assert page.get_by_label("Video file").get_attribute("aria-invalid") == "true"
    assert "id_file_error" in page.get_by_label("Video file").get_attribute("aria-describedby")
    assert not requests_sent


def test_an_upload_can_be_cancelled(browser, service, walk_in, clip):
    page = new_page(browser)
    page.goto(f"{service.url}/{walk_in}/")
    slow_uploads(page, 20_000)
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email").fill("cancel@example.com")
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_role("button", name="Upload video").click()
    page.wait_for_selector(".upload-progress:not([hidden])")
    page.get_by_role("button", name="Cancel upload").click()
    page.wait_for_selector(".upload-result.failed")
    assert page.locator(".upload-result").inner_text() == "Upload cancelled."
    assert page.get_by_role("button", name="Upload video").is_enabled()
    owner_view = service.manage(
        "shell", "-c", "from videos.models import Video; "
        "print(Video.objects.filter(email='cancel@example.com').count())",
    )  # fmt: skip
    assert owner_view.strip().splitlines()[-1] == "0"


def test_every_field_is_checked_before_the_video_is_sent(browser, service, walk_in, clip):
    page = new_page(browser)
    page.goto(f"{service.url}/{walk_in}/")
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    # The browser's own constraints first: every field at once, nothing sent.
    page.get_by_label("Email").fill("not an address")
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_role("button", name="Upload video").click()
    page.locator("#id_email_error").wait_for()
    for field in ("first_name", "last_name", "email"):
        assert page.locator(f"#id_{field}").get_attribute("aria-invalid") == "true", field
        assert f"id_{field}_error" in page.locator(f"#id_{field}").get_attribute("aria-describedby")
    assert page.evaluate("document.activeElement.id") == "id_first_name"
    assert not posts
    # Then the server's checks, which the browser cannot make: still before the video is sent.
    page.get_by_label("First name").fill("Pat\u202egpj.exe")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email").fill("pat@example")  # no dot: fine for the browser, not for us
    page.get_by_role("button", name="Upload video").click()
    page.wait_for_function(
        "() => !document.querySelector('#id_email_error').hidden"
        " && !document.querySelector('#id_first_name_error').hidden",
        timeout=10_000,
    )
    assert page.locator("#id_last_name").get_attribute("aria-invalid") is None
    assert page.evaluate("document.activeElement.id") == "id_first_name"
    assert posts == [f"{service.url}/api/v1/contests/{walk_in}/videos/check"]
    assert page.locator(".upload-progress").is_hidden()


def start_entry(
    page, service, slug: str, clip: Path, email: str, bytes_per_second: int, captions=None
) -> None:
    page.goto(f"{service.url}/{slug}/")
    slow_uploads(page, bytes_per_second)
    page.get_by_label("First name").fill("Rae")
    page.get_by_label("Last name").fill("Moss")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Video file").set_input_files(str(clip))
    if captions:
        page.get_by_label("Captions", exact=True).set_input_files(str(captions))
        page.get_by_label("Language of the captions").fill("es")
    page.get_by_role("button", name="Upload video").click()


def captions_of(service, email: str) -> tuple[str, str]:
    """The captions and their language stored with a participant's entry."""
    answer = service.manage(
        "shell", "-c", "import json; from videos.models import Video; "
        f"v = Video.objects.get(email={email!r}); "
        "print(json.dumps([v.captions, v.captions_language]))",
    )  # fmt: skip
    captions, language = json.loads(answer.strip().splitlines()[-1])
    return captions, language


def test_an_upload_cut_halfway_goes_on_from_there_after_a_reload(
    browser, service, walk_in, tmp_path
):
    clip = make_noisy_clip(tmp_path / "long-take.avi", seconds=2, size="640x360")
    size = clip.stat().st_size
    assert size > 10 * 2**20  # more than two pieces of 5 MiB
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    first = context.new_page()
    stored = []  # (upload address, offset) after each piece the server kept
    first.on(
        "response",
        lambda response: (
            response.request.method == "PATCH"
            and response.status == 204
            and stored.append((response.url, int(response.headers["upload-offset"])))
        ),
    )
    captions = tmp_path / "subtitulos.srt"
    captions.write_text("1\n00:00:00,200 --> 00:00:01,500\nHola\n")
    start_entry(first, service, walk_in, clip, "rae@example.com", 1_500_000, captions)
    first.wait_for_function("() => document.querySelector('progress').value > 0", timeout=30_000)
    # Playwright hands events over only while it waits: wait in the page, with a deadline.
    first.wait_for_event("response", lambda _response: bool(stored), timeout=60_000)
    first.close()  # the tab is closed mid-upload

    address, _offset = stored[-1]
    head = requests.head(address, headers={"Tus-Resumable": "1.0.0"}, timeout=10)
    assert 0 < int(head.headers["Upload-Offset"]) < size

    second = context.new_page()
    problems, sent, asked = [], [], []
    second.on("requestfailed", lambda request: problems.append(request.url))
    second.on("pageerror", lambda error: problems.append(str(error)))
    second.on("request", lambda request: sent.append((request.method, request.url,
              request.headers.get("upload-offset"))))  # fmt: skip
    second.on("response", lambda response: response.request.method == "HEAD" and asked.append(
        int(response.headers["upload-offset"])))  # fmt: skip
    start_entry(second, service, walk_in, clip, "rae@example.com", 4_000_000, captions)
    second.wait_for_selector(".upload-result.ok", timeout=120_000)
    pieces = [(url, offset) for method, url, offset in sent if method == "PATCH"]
    # It went on from what the server had when the page asked (a piece under way at the cut
    # may have landed since), at the same address: nothing was sent twice.
    (received,) = asked
    assert 0 < received < size
    assert pieces[0] == (address, str(received))
    assert not [url for method, url, _o in sent if method == "POST" and url.endswith("/uploads")]
    assert not problems
    (message,) = service.wait_until(lambda: service.emails_to("rae@example.com"), 120, "email")
    assert "is ready" in message["Subject"]
    assert captions_of(service, "rae@example.com") == (
        "WEBVTT\n\n00:00:00.200 --> 00:00:01.500\nHola\n",
        "es",
    )
    second.goto(LINK.search(message.get_body(("plain",)).get_content()).group(1))
    assert video_plays(second) > 0.5
