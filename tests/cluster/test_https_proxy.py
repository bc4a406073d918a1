"""The site with an https web_url behind nginx ending TLS, as behind an HTTPS load balancer.

nginx reaches the web process from its own address (127.0.0.2), the only one in
forwarded_allow_ips, and tells it the scheme in X-Forwarded-Proto. An organizer signs up, logs
in and creates a contest, and a participant uploads a video, all through the page forms, sent
as a browser sends them (with their Origin).
"""

import re
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.browser import test_in_chromium
from tests.e2e.service import Service, confirm_by_email_link, free_port, open_contest
from tests.media import make_clip
from tests.servers import reachable, unavailable

pytestmark = pytest.mark.e2e

BALANCER_ADDRESS = "127.0.0.2"  # nginx's side of its connections to the web process
# Each page tells the test what the Content-Security-Policy refused, as it happens.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.refused(location.pathname + ": " + event.violatedDirective + " "
                 + (event.blockedURI || "inline"));
});
"""
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NGINX_CONF = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_max_body_size 100m;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{https_port} ssl;
        listen 127.0.0.1:{http_port};  # the balancer's plain HTTP listener
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        location / {{
            proxy_pass http://127.0.0.1:{web_port};
            proxy_bind {balancer};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
}}
"""


def self_signed_certificate(folder: Path) -> Path:
    """cert.pem and key.pem for localhost, valid for a day; the certificate's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = folder / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def require_second_loopback_address() -> None:
    with socket.socket() as sock:
        try:
            sock.bind((BALANCER_ADDRESS, 0))
        except OSError:
            unavailable(f"{BALANCER_ADDRESS} is not a local address here (Linux has all 127/8)")


class TlsProxy:
    """nginx ending TLS in front of one web process, with a plain HTTP listener beside it."""

    def __init__(self, folder: Path, web_port: int):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            unavailable("nginx is not installed (apt-get install nginx)")
        folder.mkdir(parents=True, exist_ok=True)
        self.certificate = self_signed_certificate(folder)
        self.https_port, self.http_port = free_port(), free_port()
        conf = folder / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                folder=folder, https_port=self.https_port, http_port=self.http_port,
                web_port=web_port, balancer=BALANCER_ADDRESS,
            )
        )  # fmt: skip
        self.process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        ports = (self.https_port, self.http_port)
        while not all(reachable("127.0.0.1", port) for port in ports):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = folder / "error.log"
                raise RuntimeError(
                    f"nginx did not start: {log.read_text() if log.exists() else ''}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(the public https URL, the proxy, the web instance with its worker). The https URL is
    web_url, and requests trusts the proxy's certificate."""
    require_second_loopback_address()
    folder = tmp_path_factory.mktemp("https-proxy")
    service = Service(folder / "service", forwarded_allow_ips=BALANCER_ADDRESS)
    proxy = None
    try:
        proxy = TlsProxy(folder / "nginx", service.port)
        base = f"https://localhost:{proxy.https_port}"
        service.env["VIDEOSHARE_WEB_URL"] = base
        service.start()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("REQUESTS_CA_BUNDLE", str(proxy.certificate))
            yield base, proxy, service
    finally:
        service.stop()
        if proxy:
            proxy.stop()


def post_form(browser, url: str, data: dict, *, base: str, files=None) -> requests.Response:
    """The form of the page at `url`, filled in and sent as a browser sends it: with the
    page's Origin and Referer."""
    page = browser.get(url, timeout=30)
    assert page.status_code == 200, page.text
    return browser.post(
        url, data={**data, "csrfmiddlewaretoken": CSRF_FIELD.search(page.text)[1]},
        files=files, headers={"Origin": base, "Referer": page.url}, timeout=60,
    )  # fmt: skip


def test_sign_up_log_in_and_upload_through_the_tls_proxy(site, tmp_path):
    base, proxy, service = site
    olga = {"name": "Olga", "email": "olga@example.com", "password": "olga-long-password"}
    browser = requests.Session()

    signed_up = post_form(browser, f"{base}/accounts/signup/", olga, base=base)
    assert signed_up.status_code == 200 and signed_up.url.startswith(base), signed_up.text
    confirm_by_email_link(olga["email"], service.emails_to)  # the link is on web_url: https

    credentials = {"username": olga["email"], "password": olga["password"]}
    logged_in = post_form(browser, f"{base}/accounts/login/", credentials, base=base)
    assert logged_in.url == f"{base}/dashboard/", logged_in.text
    session = next(cookie for cookie in browser.cookies if cookie.name == "sessionid")
    assert session.secure and session.has_nonstandard_attr("HttpOnly")
    assert session.get_nonstandard_attr("SameSite") == "Lax"

    now = datetime.now(UTC)
    contest = {
        "name": "Secure shorts", "slug": "secure-shorts", "prize": "A lens",
        "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "max_entries_per_email": "3",
    }  # fmt: skip
    created = post_form(browser, f"{base}/dashboard/contests/new/", contest, base=base)
    assert created.url == f"{base}/dashboard/contests/secure-shorts/", created.text

    participant = requests.Session()
    clip = make_clip(tmp_path / "holiday.avi")
    entry = {"first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com"}
    with open(clip, "rb") as handle:
        sent = post_form(
            participant, f"{base}/secure-shorts/", entry, base=base,
            files={"file": ("holiday.avi", handle)},
        )  # fmt: skip
    assert sent.status_code == 200 and sent.url == f"{base}/secure-shorts/", sent.text
    assert "We received your video" in sent.text

    def ready_page():
        page = participant.get(f"{base}/secure-shorts/", timeout=30)
        return page if "Videos (1)" in page.text else None

    page = service.wait_until(ready_page, 120, "the video to be converted")
    # The gallery links each entry's page, which plays the MP4.
    entry_page = participant.get(
        base + re.search(r'<a class="watch" href="([^"]+)"', page.text)[1], timeout=30
    )
    video = participant.get(
        base + re.search(r'<source src="([^"]+)"', entry_page.text)[1], timeout=30
    )
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_balancers_plain_http_listener_redirects_to_https(site):
    base, proxy, service = site
    response = requests.get(
        f"http://localhost:{proxy.http_port}/secure-shorts/?page=2",
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{base}/secure-shorts/?page=2"


def test_only_the_balancer_is_believed_about_https(site):
    # The same header, straight to the instance from an address not in forwarded_allow_ips.
    base, proxy, service = site
    direct = requests.get(
        f"{service.url}/accounts/login/", allow_redirects=False, timeout=30,
        headers={"Host": base.removeprefix("https://"), "X-Forwarded-Proto": "https"},
    )  # fmt: skip
    assert direct.status_code == 301, direct.text
    assert "Strict-Transport-Security" not in direct.headers
    assert "forwarded_header_ignored" in (service.logs / "web.log").read_text()
    through_balancer = requests.get(f"{base}/accounts/login/", allow_redirects=False, timeout=30)
    assert through_balancer.status_code == 200


def test_the_health_check_answers_over_plain_http(site):
    base, proxy, service = site
    response = requests.get(f"{service.url}/health", allow_redirects=False, timeout=30)
    assert response.status_code == 200


# Debian's Chromium, launched as the browser tests launch it.
chromium = test_in_chromium.browser


def browser_page(chromium, refused: list[str]):
    """A page of a new browser (its own cookies) that trusts the proxy's certificate and
    adds every violation of the policy to `refused`."""
    context = chromium.new_context(ignore_https_errors=True)
    context.expose_function("refused", lambda text: refused.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    return context.new_page()


def test_the_pages_work_in_chromium_under_the_policy(site, chromium, tmp_path):
    from PIL import Image

    base, proxy, service = site
    open_contest(base, "browser-cup", "Browser cup", service.emails_to, email="bea@example.com")
    banner = tmp_path / "banner.png"
    Image.new("RGB", (1200, 400), (91, 61, 245)).save(banner)
    clip = make_clip(tmp_path / "beach.avi")
    refused: list[str] = []

    organizer = browser_page(chromium, refused)
    organizer.goto(f"{base}/accounts/login/")
    organizer.get_by_label("Email").fill("bea@example.com")
    organizer.get_by_label("Password").fill("olga-long-password")
    organizer.locator("main form button").click()
    organizer.wait_for_url(f"{base}/dashboard/")
    organizer.goto(f"{base}/dashboard/contests/browser-cup/edit/")
    organizer.get_by_label("Banner").set_input_files(str(banner))  # previewed from a blob: URL
    organizer.wait_for_function("() => document.querySelector('#banner-preview').naturalWidth")
    organizer.get_by_role("button", name="Save").click()
    organizer.wait_for_url(f"{base}/dashboard/contests/browser-cup/")

    visitor = browser_page(chromium, refused)
    visitor.goto(f"{base}/browser-cup/")
    assert visitor.evaluate("document.querySelector('img.banner').naturalWidth") == 1200
    visitor.get_by_label("First name").fill("Ana")
    visitor.get_by_label("Last name").fill("Diaz")
    visitor.get_by_label("Email").fill("ana@example.com")
    visitor.locator("input[name=file]").set_input_files(str(clip))
    visitor.get_by_role("button", name="Upload video").click()  # site.js sends it, with progress
    visitor.wait_for_selector(".upload-result.ok", timeout=60_000)

    organizer.wait_for_selector(".state-ready", timeout=120_000)  # site.js polls the states
    visitor.goto(f"{base}/browser-cup/")
    visitor.locator(".videos a").first.click()  # the gallery links the entry's page
    visitor.wait_for_selector("video.player")
    width = visitor.evaluate(
        """() => new Promise((done) => {
             const video = document.querySelector("video");
             video.addEventListener("loadeddata", () => done(video.videoWidth));
             video.addEventListener("error", () => done(-1));
             video.preload = "auto";
             video.load();
           })"""
    )
    assert width == 320
    visitor.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visitor.get_by_role("button", name="Copy link").click()
    visitor.wait_for_selector("text=Copied!")

    assert not refused
