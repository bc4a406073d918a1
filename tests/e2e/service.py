"""Run VideoShare as a user does: a gunicorn web process and a Celery worker, on a free port."""

import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import time
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
    server, made on start and dropped on stop.
    """

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

    def start(self) -> "Service":
        databases.require(self.database)
        try:
            if self.database["ENGINE"] != "django.db.backends.sqlite3":
                self.database_made = databases.create(self.database)
                self.env["VIDEOSHARE_RDS_DB"] = self.database_made
            self.manage("migrate", "--noinput", "-v0")
            self.manage("collectstatic", "--noinput", "-v0")
            self.spawn("web", [str(BIN / "gunicorn"), "config.wsgi"])
            self.start_worker("worker")
            self.wait_until(lambda: self.healthy(), 60, "the web process to answer")
        except BaseException:
            self.stop()  # no process or database left behind by a start that failed
            raise
        return self

    def start_worker(self, name: str) -> None:
        self.spawn(name, [str(BIN / "celery"), "-A", "config", "worker", "--beat", "-l", "INFO",
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

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
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


def organizer_session(base_url: str) -> requests.Session:
    """Olga signs up through the API; her Bearer-authenticated session."""
    account = {"name": "Olga", "email": "olga@example.com", "password": "olga-long-password"}
    signed_up = requests.post(f"{base_url}/api/v1/organizers", json=account, timeout=30)
    assert signed_up.status_code == 201, signed_up.text
    token = requests.post(f"{base_url}/api/v1/auth/token", json=account, timeout=30).json()["token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def open_contest(base_url: str, slug: str, name: str) -> requests.Session:
    """Olga's session, with a contest that is open now under `slug`."""
    session = organizer_session(base_url)
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
