"""Every page through axe-core (vendored in tests/browser/vendor/) in Chromium, against the real
service (gunicorn + worker + ffmpeg), on a desktop and a phone, in English and Spanish: no
serious or critical violation, no horizontal scroll on the phone, no request that fails. The
organizer's hide and undo are driven by keyboard focus. Screenshots of the pages it sees are
refreshed into docs/screenshots/."""

import json
from pathlib import Path

import pytest

from tests.browser import test_in_chromium as chromium
from tests.browser.test_in_chromium import shot
from tests.browser.test_streams_in_chromium import api_entry
from tests.e2e.service import open_contest
from tests.media import make_clip, make_damaged_clip

# Chromium and the running service, as the other browser tests have them.
browser, service = chromium.browser, chromium.service

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SLUG = "open-shorts"
PASSWORD = "olga-long-password"  # organizer_session's
ORGANIZER = "ada@example.com"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1200, "height": 900}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}
LOCALES = {"en": "en-US", "es": "es-ES"}
BAD = ("serious", "critical")
# The pages refreshed into docs/screenshots/ (docs/PAGES.md): (page, device, language).
SHOTS = {
    ("entries", "phone", "en"), ("entries-hidden", "desktop", "en"),
    ("video-gone", "phone", "en"), ("not-found", "desktop", "en"), ("form-expired", "phone", "en"),
}  # fmt: skip

RUN_AXE = """async () => {
  const results = await axe.run(document, {
    resultTypes: ["violations"],
    rules: { "target-size": { enabled: true } },
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@pytest.fixture(scope="module")
def site(service, tmp_path_factory) -> dict:  # noqa: F811
    """A contest with a ready entry, a hidden one and a failed one, made as users make them."""
    session = open_contest(service.url, SLUG, "Open shorts", email=ORGANIZER)
    folder = tmp_path_factory.mktemp("a11y")
    clips = {
        "ready": make_clip(folder / "sea.avi", seconds=2),
        "hidden": make_clip(folder / "hill.avi", seconds=2),
        "failed": make_damaged_clip(folder / "broken.avi"),
    }
    urls = {}
    for name, clip in clips.items():
        fields = {"first_name": name.title(), "last_name": "Lopez", "email": f"{name}@example.com"}
        with open(clip, "rb") as handle:
            sent = session.post(
                f"{service.url}/api/v1/contests/{SLUG}/videos",
                data=fields,
                files={"file": (clip.name, handle, "video/x-msvideo")},
                timeout=60,
            )
        assert sent.status_code == 202, sent.text
        urls[name] = f"{service.url}/api/v1/videos/{sent.json()['id']}"
    entries = {}
    for name, url in urls.items():

        def done(url=url):
            found = api_entry(session, url)
            return found if found and found["status"] in ("ready", "failed") else None

        entries[name] = service.wait_until(done, 180, f"the {name} entry")
    assert entries["failed"]["status"] == "failed"
    hidden = session.patch(urls["hidden"], json={"hidden": True}, timeout=30)
    assert hidden.status_code == 200, hidden.text
    return {
        "ready": entries["ready"]["id"],
        "video": f"{service.url}/{SLUG}/videos/{entries['ready']['id']}/",
        "gone": f"{service.url}/{SLUG}/videos/{entries['hidden']['id']}/",
    }


def server_error_page(service, language: str) -> str:  # noqa: F811
    """templates/500.html as the service renders it (no page of the site fails on purpose)."""
    return service.manage(
        "shell",
        "-c",
        "from django.template.loader import render_to_string; from django.utils import "
        f"translation; translation.activate({language!r}); print(render_to_string('500.html'))",
    )


# The element the keyboard reached, and how its focus shows.
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const again = element.dataset.tabbed === "1";  // round the page once: done
  element.dataset.tabbed = "1";
  return {
    element: element.outerHTML.slice(0, 80), done: again || element === document.body,
    outline: style.outlineStyle, width: parseFloat(style.outlineWidth), shadow: style.boxShadow,
  };
}"""
# How many Tab presses a page gets (the entries page has a few dozen controls).
TAB_STOPS = 60


class Visitor:
    """One browser context (viewport, language): every failed request is kept."""

    def __init__(self, browser, device: str, language: str):  # noqa: F811
        self.context = browser.new_context(locale=LOCALES[language], **VIEWPORTS[device])
        self.context.set_default_timeout(30_000)
        self.context.add_init_script(path=str(AXE))  # before the page's own: the CSP allows it
        self.page = self.context.new_page()
        self.failed: list[str] = []
        self.page.on("requestfailed", self.lost)
        self.page.on("response", self.refused)
        self.device, self.language = device, language

    def lost(self, request) -> None:
        # Leaving a page cancels what its player was still loading (ERR_ABORTED): not an error.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url} {request.failure}")

    def refused(self, response) -> None:
        # A page may answer 404 or 403 on purpose; what it loads may not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed.append(f"{response.url} {response.status}")

    def shot(self, name: str) -> None:
        if (name, self.device, self.language) in SHOTS:
            shot(self.page, f"{name}-{self.device}" + ("-es" if self.language == "es" else ""))

    def visit(self, url: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response.status == status, (url, response.status)
        self.page.wait_for_load_state("load")

    def check(self, name: str) -> list[dict]:
        """The serious and critical violations on the page as it is now."""
        self.page.wait_for_function("() => window.axe !== undefined", timeout=10_000)
        found = [v for v in self.page.evaluate(RUN_AXE) if v["impact"] in BAD]
        if self.device == "phone":
            wide = self.page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            if wide:
                found.append({"id": "horizontal-scroll", "impact": "serious", "nodes": [name]})
        unseen = self.focus_unseen()
        if unseen:
            found.append({"id": "focus-not-visible", "impact": "serious", "nodes": unseen})
        return found

    def focus_unseen(self) -> list[str]:
        """The controls the keyboard reaches whose focus shows no ring of 2 px or more."""
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        unseen = []
        for _ in range(TAB_STOPS):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate(FOCUSED)
            if focused["done"]:
                break
            ring = focused["outline"] != "none" and focused["width"] >= 2
            if not ring and focused["shadow"] == "none":
                unseen.append(focused["element"])
        return unseen


def log_in(visitor: Visitor, service) -> None:  # noqa: F811
    page = visitor.page
    visitor.visit(f"{service.url}/accounts/login/")
    page.locator("input[name=username]").fill(ORGANIZER)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/")


@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("device", VIEWPORTS)
def test_every_page_passes_axe(browser, service, site, device, language):  # noqa: F811
    url = service.url
    violations: dict[str, list[dict]] = {}

    anonymous = Visitor(browser, device, language)
    public = {
        "home": (f"{url}/", 200),
        "contest": (f"{url}/{SLUG}/", 200),
        "video": (site["video"], 200),
        "login": (f"{url}/accounts/login/", 200),
        "signup": (f"{url}/accounts/signup/", 200),
        "password-reset": (f"{url}/accounts/password_reset/", 200),
        "not-found": (f"{url}/no/such/page/", 404),
        "video-gone": (site["gone"], 404),
    }
    for name, (address, status) in public.items():
        anonymous.visit(address, status)
        violations[name] = anonymous.check(name)
        anonymous.shot(name)

    # A form left open while its token went stale: its page says so.
    anonymous.visit(f"{url}/accounts/login/")
    anonymous.context.clear_cookies()
    anonymous.page.locator("input[name=username]").fill(ORGANIZER)
    anonymous.page.locator("input[name=password]").fill(PASSWORD)
    with anonymous.page.expect_response(f"{url}/accounts/login/") as answer:
        anonymous.page.locator("main form button[type=submit]").click()
    assert answer.value.status == 403
    anonymous.page.wait_for_load_state("load")
    violations["form-expired"] = anonymous.check("form-expired")
    anonymous.shot("form-expired")

    # The 500 page as the service renders it, answered for an address of the site.
    error_html = server_error_page(service, language)
    anonymous.page.route(
        f"{url}/failure-for-the-test",
        lambda route: route.fulfill(status=500, content_type="text/html", body=error_html),
    )
    anonymous.visit(f"{url}/failure-for-the-test", 500)
    assert anonymous.page.locator("link[rel=stylesheet]").evaluate("l => l.sheet !== null")
    violations["server-error"] = anonymous.check("server-error")

    organizer = Visitor(browser, device, language)
    log_in(organizer, service)
    private = {
        "dashboard": f"{url}/dashboard/",
        "entries": f"{url}/dashboard/contests/{SLUG}/",
        "contest-new": f"{url}/dashboard/contests/new/",
        "contest-edit": f"{url}/dashboard/contests/{SLUG}/edit/",
        "video-hidden-for-organizer": site["gone"],
    }
    for name, address in private.items():
        organizer.visit(address)
        violations[name] = organizer.check(name)
        organizer.shot(name)
    violations["entries-hidden"] = hide_and_undo(organizer, url, site["ready"], language)

    found = {name: found for name, found in violations.items() if found}
    assert found == {}, json.dumps(found, indent=1)
    assert anonymous.failed == [] and organizer.failed == []
    anonymous.context.close()
    organizer.context.close()


def hide_and_undo(organizer: Visitor, url: str, entry: str, language: str) -> list[dict]:
    """Hide the ready entry by keyboard: the page says so and focuses Undo, which shows it
    again. The violations found on the page with its message."""
    page = organizer.page
    organizer.visit(f"{url}/dashboard/contests/{SLUG}/?status=ready")
    row = page.locator(f"#entry-{entry}")
    assert row.locator(".state-ready").is_visible()
    # On a phone too, the state and the button are in sight, with no sideways scrolling.
    box = row.locator(".visibility button").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    row.locator(".visibility button").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages form.undo button")
    focused = page.evaluate("document.activeElement.closest('form.undo') !== null")
    assert focused, "focus is not on Undo"
    assert row.locator("small", has_text="hidden" if language == "en" else "oculto").count()
    found = organizer.check("entries-hidden")
    organizer.shot("entries-hidden")
    page.locator(".messages form.undo button").focus()  # where it was before the check's tour
    page.keyboard.press("Enter")  # Undo
    page.wait_for_function("() => !document.querySelector('.messages form.undo')")
    assert row.locator("input[name=hidden][value='1']").count() == 1  # shown: Hide again
    return found
