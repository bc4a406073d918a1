"""Run VideoShare as a user does: a gunicorn web process and a Celery worker, on a free port."""

import contextlib
import email
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import requests

from config import database, loader
from tests import databases

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """config: VideoShare's keys (broker_url="redis://..."); extra_env: other variables (AWS_*).

    The database is the test run's kind: SQLite in data_dir, or a fresh database on the run's
    server, made on start and dropped on stop. db_engine and rds_* keys given here name another
    server (a test's own): the fresh database is made on that one.
    """

    running: dict[str, "Service"] = {}  # started ones by URL: organizer_session reads its mail

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None, **config: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **(extra_env or {}),
            "VIDEOSHARE_DATA_DIR": str(data_dir),
            "VIDEOSHARE_WEB_PORT": str(self.port),
            "VIDEOSHARE_WEB_URL": self.url,
            "VIDEOSHARE_WEB_WORKERS": "2",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **{f"VIDEOSHARE_{key.upper()}": value for key, value in config.items()},
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database = database.databases(loader.load(self.env), data_dir)["default"]
        self.database_made: str | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *, worker: bool = True) -> "Service":
        """Start the web process and, unless worker=False, a worker."""
        databases.require(self.database)
        try:
            if self.database["ENGINE"] != "django.db.backends.sqlite3":
                self.database_made = databases.create(self.database)
                self.env["VIDEOSHARE_RDS_DB"] = self.database_made
            self.manage("migrate", "--noinput", "-v0")
            self.manage("collectstatic", "--noinput", "-v0")
            self.spawn("web", [str(BIN / "gunicorn"), "config.asgi:application"])
            if worker:
                self.start_worker("worker")
            self.wait_until(lambda: self.healthy(), 60, "the web process to answer")
        except BaseException:
            self.stop()  # no process or database left behind by a start that failed
            raise
        Service.running[self.url] = self
        return self

    def start_worker(self, name: str) -> None:
        self.spawn(name, [str(BIN / "celery"), "-A", "config", "worker", "-l", "INFO",
                          "--concurrency", "2", "-n", f"{name}@%h"])  # fmt: skip

    def spawn(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started: a machine lost mid-job."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """Ask each process to shut down as an operator would; force it after 20 s."""
        for process in self.processes.values():
            process.terminate()
        deadline = time.monotonic() + 20
        for name, process in list(self.processes.items()):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0))
            self.kill(name)
        if self.database_made:
            databases.drop(self.database, self.database_made)
            self.database_made = None
        if Service.running.get(self.url) is self:
            del Service.running[self.url]

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=2).status_code == 200
        except requests.RequestException:  # refused, reset or slow to answer while booting
            return False

    def wait_until(self, condition, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.25)
        raise AssertionError(f"timed out after {seconds} s waiting for {what}; logs in {self.logs}")

    def emails(self) -> list[email.message.EmailMessage]:
        folder = self.data_dir / "mail"
        if not folder.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(folder.glob("*.eml"))
        ]

    def emails_to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self.emails() if message["To"] == address]


CONFIRMATION_LINK = re.compile(r"https?://\S+/accounts/confirm/[^/\s]+/")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
Inbox = Callable[[str], list[email.message.EmailMessage]]


def organizer_session(
    base_url: str, inbox: Inbox | None = None, email: str = "olga@example.com"
) -> requests.Session:
    """Olga signs up through the API and confirms her address by the link emailed to her, as a
    person does; her Bearer-authenticated session.

    inbox(address) gives the emails sent to an address; by default the .eml files of the
    Service serving base_url. Pass one for mail that goes elsewhere (SES).
    """
    account = {"name": "Olga", "email": email, "password": "olga-long-password"}
    signed_up = requests.post(f"{base_url}/api/v1/organizers", json=account, timeout=30)
    assert signed_up.status_code == 201, signed_up.text
    confirm_by_email_link(account["email"], inbox or _embedded_inbox(base_url))
    token = requests.post(f"{base_url}/api/v1/auth/token", json=account, timeout=30).json()["token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def confirm_by_email_link(address: str, inbox: Inbox, seconds: float = 30) -> None:
    """Open the newest confirmation link sent to `address` and press its Confirm button."""
    deadline = time.monotonic() + seconds
    links: list[str] = []
    while not links:
        bodies = [message.get_body(("plain",)).get_content() for message in inbox(address)]
        links = [link for body in bodies for link in CONFIRMATION_LINK.findall(body)]
        if not links:
            assert time.monotonic() < deadline, f"no confirmation email to {address}"
            time.sleep(0.25)
    browser = requests.Session()  # the mail app's browser: no API token, no prior cookies
    page = browser.get(links[-1], timeout=30)
    assert page.status_code == 200, page.text
    confirmed = browser.post(
        links[-1],
        data={"csrfmiddlewaretoken": CSRF_FIELD.search(page.text)[1]},
        headers={"Referer": links[-1]},
        timeout=30,
    )
    assert confirmed.status_code == 200 and address in confirmed.text, confirmed.text


def _embedded_inbox(base_url: str) -> Inbox:
    service = Service.running.get(base_url)
    assert service, f"no Service started at {base_url}: pass organizer_session an inbox"
    return service.emails_to


def open_contest(
    base_url: str, slug: str, name: str, inbox: Inbox | None = None, email: str = "olga@example.com"
) -> requests.Session:
    """Olga's session, with a contest that is open now under `slug`."""
    session = organizer_session(base_url, inbox, email)
    now = datetime.now(UTC)
    contest = {
        "name": name,
        "slug": slug,
        "prize": "Fame",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }
    created = session.post(f"{base_url}/api/v1/contests", json=contest, timeout=30)
    assert created.status_code == 201, created.text
    return session
