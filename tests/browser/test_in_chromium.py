"""The pages as people use them: headless Chromium (Debian's) driven by Playwright.

Runs against the real service (gunicorn + Celery worker + ffmpeg). Screenshots of the main
pages are refreshed into docs/screenshots/ on every run.
"""

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.service import ROOT, Service
from tests.media import make_clip
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
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("browser-clips") / "holiday.avi", seconds=3)


def new_page(browser, locale="en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    return context.new_page()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


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


def upload_watching_progress(page, service, slug: str, clip: Path, email: str, texts: dict):
    page.goto(f"{service.url}/{slug}/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1,
         "uploadThroughput": UPLOAD_BYTES_PER_SECOND},
    )  # fmt: skip
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
    seen = page.evaluate("window.progressSeen")
    assert max(seen) == 100
    assert page.locator("progress").evaluate("bar => bar.value") == 100
    assert texts["sent"] in page.locator(".upload-result").inner_text()
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
    "sent": "We received your video",
}  # fmt: skip
SPANISH = {
    "lang": "es", "first": "Nombre", "last": "Apellido", "email": "Correo electrónico",
    "message": "Mensaje", "file": "Archivo de video", "upload": "Subir video",
    "sent": "Recibimos tu video",
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
    link = LINK.search(email.get_content()).group(1)
    participant.goto(link)
    assert video_plays(participant) > 0.5
    assert participant.locator("meta[property='og:image']").get_attribute("content")
    shot(participant, "video-page")

    participant.goto(f"{service.url}/summer-shorts/")
    assert participant.locator("li.video").count() == 1
    shot(participant, "contest-page")
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
    participant.goto(LINK.search(email.get_content()).group(1))
    assert "Comparte este video" in participant.content()
    assert video_plays(participant) > 0.5
    shot(participant, "video-page-es")


def test_the_layout_fits_a_phone(browser, service):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{service.url}/summer-shorts/")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow
    shot(page, "contest-page-phone")


def test_the_browser_checks_the_file_before_sending(browser, service, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page = new_page(browser)
    page.goto(f"{service.url}/summer-shorts/")
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


def test_an_upload_can_be_cancelled(browser, service, clip):
    page = new_page(browser)
    page.goto(f"{service.url}/summer-shorts/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 20_000},
    )
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
