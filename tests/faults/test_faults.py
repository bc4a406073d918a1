"""Faults on real processes: a worker killed mid-job or mid-email, the broker, the database and
the mail server stopped under load, a full disk. In each: nothing accepted is lost, nothing is
sent twice, and recovery takes seconds. Every email is counted at a real SMTP server, so a
second send cannot hide. They run on the embedded setup (SQLite, the folder queue) and on
PostgreSQL with RabbitMQ or Redis.

The settings are short, and so are the tests: a job's lease is LEASE s, a sweep runs every
SWEEP s, an email is claimed for EMAIL_CLAIM s, the first pause after a failure on our side is
PAUSE s. The same arithmetic holds for the defaults (60, 15, 120, 30).
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
import urllib3

from tests.e2e.service import BIN, Service, open_contest
from tests.e2e.test_slow_clients import answer_of
from tests.faults.servers import ScratchPostgres, ScratchRabbitMQ, ScratchRedis, StallingSMTP
from tests.media import make_clip, make_noisy_clip
from tests.servers import SERVERS, unavailable

pytestmark = pytest.mark.e2e

LEASE = 10
SWEEP = 3
EMAIL_CLAIM = 10
PAUSE = 3
FAST_RECOVERY = {
    "job_lease_seconds": str(LEASE),
    "sweep_seconds": str(SWEEP),
    "email_claim_seconds": str(EMAIL_CLAIM),
    "outage_pause_seconds": str(PAUSE),
}
# On top of what the settings allow: a worker starting, polling and sending on a busy 2-core
# machine.
MARGIN = 30
# After the last expected email, long enough for any second claim of a message to lapse and be
# swept: a duplicate would arrive within it.
QUIET = EMAIL_CLAIM + 2 * SWEEP
# The bound for uploads accepted while the broker was down: sent "well under a minute"
# after it is back. This is the bound for all of them to be converted and emailed.
BROKER_BACK_BOUND = 60


@pytest.fixture
def smtp():
    server = StallingSMTP().start()
    yield server
    server.stop()


@pytest.fixture
def scratch():
    """Start one of the test's own servers; it is closed after the services that use it stop."""
    servers = []

    def start(server):
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close()


def shared_postgres() -> dict[str, str]:
    """Keys for the machine's PostgreSQL (never stopped here): Service makes a fresh database."""
    host, port = SERVERS["postgresql"]
    return {"db_engine": "postgresql", "rds_url": host, "rds_port": str(port),
            "rds_user": "postgres", "rds_db": "postgres"}  # fmt: skip


@pytest.fixture
def start_service(request, tmp_path, smtp, scratch):
    """Start a Service with fast recovery settings, its mail going to `smtp`; its logs' last
    lines are shown if the test fails."""
    started: list[Service] = []
    request.node.services = started

    def start(*, worker: bool = True, **keys: str) -> Service:
        service = Service(tmp_path / "service", **FAST_RECOVERY, **smtp.keys(), **keys)
        started.append(service)
        return service.start(worker=worker)

    yield start
    for service in started:
        service.stop()


def upload(service: Service, slug: str, path: Path, email: str) -> requests.Response:
    with open(path, "rb") as handle:
        return requests.post(
            f"{service.url}/api/v1/contests/{slug}/videos",
            data={"first_name": "Pat", "last_name": "Kim", "email": email, "message": "hi"},
            files={"file": (path.name, handle)},
            timeout=60,
        )


def status(service: Service, organizer: requests.Session, video_id: str) -> str:
    return organizer.get(f"{service.url}/api/v1/videos/{video_id}", timeout=30).json()["status"]


def tally(service, organizer, smtp: StallingSMTP, slug: str, addresses: list[str]):
    """(lost, duplicated): entries not ready or never emailed, and entries or emails too many."""
    listed = organizer.get(f"{service.url}/api/v1/contests/{slug}/videos", timeout=30).json()
    entries = listed["results"]
    assert listed["count"] == len(entries), "more than one page: the tally would be wrong"
    lost = duplicated = 0
    for address in addresses:
        mine = [entry for entry in entries if entry["email"] == address]
        emails = smtp.messages_to(address)
        if not any(entry["status"] == "ready" for entry in mine) or not emails:
            lost += 1
        duplicated += max(len(mine) - 1, 0) + max(len(emails) - 1, 0)
    return lost, duplicated


def wait_for_emails(service: Service, smtp: StallingSMTP, addresses: list[str], seconds: float):
    service.wait_until(
        lambda: all(smtp.messages_to(address) for address in addresses),
        seconds,
        f"emails to {', '.join(addresses)}",
    )
    return max(smtp.arrivals_to(address)[0] for address in addresses)


def ffmpeg_converting(service: Service, worker: str) -> bool:
    """An ffmpeg encoding (libx264) under the worker process: a conversion in the act."""
    root = service.processes[worker].pid
    parents = {}
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor != root:
            continue
        with contextlib.suppress(OSError, IndexError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            program = Path(os.fsdecode(command[0])).name
            if "ffmpeg" in program and b"libx264" in command:
                return True
    return False


def conversion_seconds(service: Service, worker: str, video_id: str) -> float:
    """How long the worker's conversion of the video took, from its log's video_converted event.
    The job sends the email before it logs that line: the line may come a moment after it."""

    def logged() -> float | None:
        log = (service.logs / f"{worker}.log").read_text(errors="replace")
        for line in log.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "video_converted" and event.get("video_id") == video_id:
                return float(event["seconds"])
        return None

    return service.wait_until(logged, 30, f"{worker} to log its conversion of {video_id}")


@pytest.mark.parametrize("setup", ["embedded", "postgresql+rabbitmq"])
def test_a_conversion_of_a_killed_worker_is_finished_by_another(
    setup, start_service, scratch, smtp, recoveries, tmp_path
):
    keys = {}
    if setup == "postgresql+rabbitmq":
        keys = {**shared_postgres(), "broker_url": scratch(ScratchRabbitMQ()).url}
    service = start_service(**keys)
    organizer = open_contest(service.url, "kill-convert", "Kill convert", smtp.messages_to)
    address = "slow@example.com"
    clip = make_noisy_clip(tmp_path / "slow.avi", seconds=8, size="640x360")
    response = upload(service, "kill-convert", clip, address)
    assert response.status_code == 202, response.text
    video_id = response.json()["id"]

    service.wait_until(lambda: ffmpeg_converting(service, "worker"), 60, "ffmpeg to convert")
    time.sleep(1)
    killed = time.monotonic()
    service.kill("worker")  # SIGKILL to the worker and its children: no goodbye, job left claimed
    left = status(service, organizer, video_id)
    assert left == "processing", f"{left} before the kill: the clip converts too fast to catch"
    service.start_worker("worker-2")  # as a supervisor restarts it; nobody moves any clock

    arrived = wait_for_emails(service, smtp, [address], LEASE + SWEEP + 150)
    recovered = arrived - killed
    converted = conversion_seconds(service, "worker-2", video_id)
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "kill-convert", [address])
    bound = LEASE + SWEEP + converted + MARGIN
    recoveries.record(
        f"{setup}: worker SIGKILL mid-conversion (lease {LEASE} s, sweep {SWEEP} s, "
        f"conversion {converted:.1f} s)",
        recovered, lost=lost, duplicated=duplicated, bound=bound,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)
    assert recovered <= bound, f"kill to email took {recovered:.1f} s, bound {bound:.1f} s"


def test_an_email_of_a_worker_killed_while_sending_goes_out_once(
    start_service, smtp, recoveries, tmp_path
):
    service = start_service()
    organizer = open_contest(service.url, "kill-mail", "Kill mail", smtp.messages_to)
    address = "sending@example.com"
    smtp.hold_next(120, to=address)  # its DATA waits for an answer until the worker is gone
    response = upload(service, "kill-mail", make_clip(tmp_path / "short.flv"), address)
    assert response.status_code == 202, response.text

    smtp.wait_holding(120)
    killed = time.monotonic()
    service.kill("worker")
    service.start_worker("worker-2")
    arrived = wait_for_emails(service, smtp, [address], EMAIL_CLAIM + SWEEP + 120)
    recovered = arrived - killed
    assert smtp.abandoned == 1  # the killed send was never accepted: the kill came mid-send
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "kill-mail", [address])
    bound = EMAIL_CLAIM + SWEEP + MARGIN
    recoveries.record(
        f"worker SIGKILL while sending the email (email claim {EMAIL_CLAIM} s, sweep {SWEEP} s)",
        recovered, lost=lost, duplicated=duplicated, bound=bound,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)
    assert recovered <= bound, f"kill to email took {recovered:.1f} s, bound {bound} s"


@pytest.mark.parametrize("broker_kind", ["RabbitMQ", "Redis"])
def test_uploads_while_the_broker_is_down_are_converted_once_it_is_back(
    broker_kind, start_service, scratch, smtp, recoveries, tmp_path
):
    broker = scratch(ScratchRabbitMQ() if broker_kind == "RabbitMQ" else ScratchRedis())
    service = start_service(broker_url=broker.url, **shared_postgres())
    organizer = open_contest(service.url, "broker-down", "Broker down", smtp.messages_to)
    clip = make_clip(tmp_path / "short.flv")
    before = upload(service, "broker-down", clip, "before@example.com")
    assert before.status_code == 202, before.text
    wait_for_emails(service, smtp, ["before@example.com"], 120)  # the path works through Redis

    broker.stop()
    down = time.monotonic()
    during = [f"during-{n}@example.com" for n in range(3)]
    answered = []
    for address in during:
        response = upload(service, "broker-down", clip, address)
        assert response.status_code == 202, response.text
        answered.append(response.elapsed.total_seconds())
    time.sleep(max(down + 30 - time.monotonic(), 0))
    broker.start()
    back = time.monotonic()

    arrived = wait_for_emails(service, smtp, during, 150)
    recovered = arrived - back
    time.sleep(QUIET)
    addresses = ["before@example.com", *during]
    lost, duplicated = tally(service, organizer, smtp, "broker-down", addresses)
    recoveries.record(
        f"broker ({broker_kind}) stopped 30 s, {len(during)} uploads during it (202 within "
        f"{max(answered):.2f} s): broker back to last email",
        recovered, lost=lost, duplicated=duplicated, bound=BROKER_BACK_BOUND,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)
    assert recovered <= BROKER_BACK_BOUND


def test_conversions_survive_a_database_outage(start_service, scratch, smtp, recoveries, tmp_path):
    database = scratch(ScratchPostgres())
    service = start_service(**database.keys())
    organizer = open_contest(service.url, "db-down", "Database down", smtp.messages_to)
    clip = make_noisy_clip(tmp_path / "busy.avi", seconds=6, size="640x360")
    addresses = [f"busy-{n}@example.com" for n in range(4)]
    video_ids = []
    for address in addresses:
        response = upload(service, "db-down", clip, address)
        assert response.status_code == 202, response.text
        video_ids.append(response.json()["id"])

    # Two converting (the worker's concurrency), two queued behind them.
    service.wait_until(lambda: ffmpeg_converting(service, "worker"), 60, "ffmpeg to convert")
    states = Counter(status(service, organizer, video_id) for video_id in video_ids)
    database.stop()
    down = time.monotonic()
    time.sleep(max(down + 20 - time.monotonic(), 0))
    database.start()
    back = time.monotonic()

    arrived = wait_for_emails(service, smtp, addresses, 180)
    recovered = arrived - back
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "db-down", addresses)
    recoveries.record(
        f"database (PostgreSQL) stopped 20 s with {states['processing']} conversions running, "
        f"{states['queued']} queued: database back to last email",
        recovered, lost=lost, duplicated=duplicated,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)


def test_a_mail_outage_is_waited_out_and_each_email_goes_once(
    start_service, smtp, recoveries, tmp_path
):
    service = start_service()
    organizer = open_contest(service.url, "mail-down", "Mail down", smtp.messages_to)
    smtp.stop()
    down = time.monotonic()
    addresses = [f"waiting-{n}@example.com" for n in range(2)]
    for address in addresses:
        response = upload(service, "mail-down", make_clip(tmp_path / "short.flv"), address)
        assert response.status_code == 202, response.text
    health = service.wait_until(
        lambda: _emails_waiting_on_mail(service), 120, "worker_health to show the emails waiting"
    )
    assert "email: [Errno 111] Connection refused" in health
    time.sleep(max(down + 30 - time.monotonic(), 0))
    smtp.start()
    back = time.monotonic()

    arrived = wait_for_emails(service, smtp, addresses, 150)
    recovered = arrived - back
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "mail-down", addresses)
    # Each try doubles the pause from PAUSE s: the one running when the server returns bounds
    # the wait (the outage's length at most), plus a sweep.
    bound = 30 + SWEEP + MARGIN
    recoveries.record(
        f"mail server stopped 30 s while {len(addresses)} entries became ready (pauses from "
        f"{PAUSE} s, doubling): mail server back to last email",
        recovered, lost=lost, duplicated=duplicated, bound=bound,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)
    assert recovered <= bound


def _emails_waiting_on_mail(service: Service) -> str:
    health = service.manage("worker_health")
    return health if "emails_waiting_on_mail 2" in health else ""


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MB file system (tmpfs) for the public media folder, to fill and free."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        unavailable("filling a disk needs a small file system of its own: run as root")
    folder = tmp_path / "service" / "media"
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """Write a ballast file until `leave` bytes are free."""
    ballast = folder / "ballast"
    free = shutil.disk_usage(folder).free
    with open(ballast, "wb") as handle:
        handle.truncate(0)
        chunk = b"\0" * 2**16
        for _ in range(max(free - leave, 0) // len(chunk)):
            handle.write(chunk)
    return ballast


def test_a_full_disk_makes_entries_wait_not_fail(
    small_disk, start_service, smtp, recoveries, tmp_path
):
    service = start_service(worker=False)
    organizer = open_contest(service.url, "disk-full", "Disk full", smtp.messages_to)
    address = "patient@example.com"
    clip = make_noisy_clip(tmp_path / "clip.avi", seconds=2, size="320x240")
    response = upload(service, "disk-full", clip, address)
    assert response.status_code == 202, response.text
    video_id = response.json()["id"]
    ballast = fill(small_disk, leave=64 * 1024)  # the MP4 starts to be written, then no room
    service.start_worker("worker")

    health = service.wait_until(
        lambda: _waiting_on_our_side(service), 120, "worker_health to show the entry waiting"
    )
    assert "No space left on device" in health
    assert status(service, organizer, video_id) in ("queued", "processing")
    assert smtp.messages_to(address) == []  # our fault is never emailed as theirs
    assert not list((small_disk / "videos").glob("*")), "a partial MP4 was left in public"
    ballast.unlink()
    freed = time.monotonic()

    arrived = wait_for_emails(service, smtp, [address], 150)
    recovered = arrived - freed
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "disk-full", [address])
    assert "ready" in smtp.messages_to(address)[0]["Subject"]
    recoveries.record(
        f"public media disk full mid-write, then freed (pauses from {PAUSE} s): "
        "space freed to the email",
        recovered, lost=lost, duplicated=duplicated,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)


def _waiting_on_our_side(service: Service) -> str:
    health = service.manage("worker_health")
    return health if "waiting_on_our_side 1" in health else ""


def test_a_web_restart_mid_upload_loses_nothing(start_service, smtp, recoveries, tmp_path):
    service = start_service()
    organizer = open_contest(service.url, "web-restart", "Web restart", smtp.messages_to)
    address = "mid-upload@example.com"
    clip = make_clip(tmp_path / "clip.avi", seconds=2)
    fields = {"first_name": "Pat", "last_name": "Kim", "email": address, "message": "hi",
              "file": (clip.name, clip.read_bytes(), "video/x-msvideo")}  # fmt: skip
    body, content_type = urllib3.encode_multipart_formdata(fields)
    head = (
        f"POST /api/v1/contests/web-restart/videos HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    web = service.processes["web"]
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)
        stopped = time.monotonic()
        web.terminate()  # a deploy or a scale-in stops the instance mid-upload
        time.sleep(1)
        sock.sendall(body[len(body) // 2 :])
        answer = answer_of(sock, seconds=60)
    answered = time.monotonic() - stopped
    assert answer.startswith(b"HTTP/1.1 202 "), answer[:500]
    assert web.wait(timeout=30) == 0  # it stopped once the upload was in
    service.spawn("web", [str(BIN / "gunicorn"), "config.asgi:application"])  # the new one
    service.wait_until(service.healthy, 60, "the new web process to answer")

    arrived = wait_for_emails(service, smtp, [address], 120)
    time.sleep(QUIET)
    lost, duplicated = tally(service, organizer, smtp, "web-restart", [address])
    left = [path.name for path in (service.data_dir / "tmp").glob("*")]
    recoveries.record(
        f"web SIGTERM mid-upload (drain 90 s): upload answered 202 {answered:.1f} s after the "
        "signal; SIGTERM to the email",
        arrived - stopped, lost=lost, duplicated=duplicated,
    )  # fmt: skip
    assert (lost, duplicated) == (0, 0)
    assert left == [], f"temporary files left behind: {left}"
