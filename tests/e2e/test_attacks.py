"""An anonymous participant attacks the real service (web + worker processes) and cannot hurt it.

Each hostile file is made here, tiny (tests/bombs.py). Refusals come back within seconds, no
bomb is ever published, the web processes stay small, floods stop at their limits, and an
honest entry sent afterwards is ready in normal time.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import requests

from tests import bombs
from tests.e2e.service import Service, open_contest
from tests.media import make_clip

pytestmark = pytest.mark.e2e

# The issue's bound for the web processes' growth while probing hostile files.
WEB_GROWTH_LIMIT_MIB = 64


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("attacks")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def organizer(service):
    return open_contest(service.url, "open-call", "Open call")


def upload(service, path: Path, email: str, slug: str = "open-call") -> requests.Response:
    with open(path, "rb") as handle:
        return requests.post(
            f"{service.url}/api/v1/contests/{slug}/videos",
            data={"first_name": "Mal", "last_name": "Lory", "email": email, "message": "hi"},
            files={"file": (path.name, handle)},
            timeout=60,
        )


def web_peak_rss_mib(service) -> float:
    """Peak resident memory (VmHWM) of the web process and its workers, summed."""
    root = service.processes["web"].pid
    pids = [root] + [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == root
    ]
    total_kib = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kib += next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
    return total_kib / 1024


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_media_bombs_are_refused_at_the_door_without_growing_the_web(service, organizer, tmp_path):
    made = {
        "16000x16000 GIF": bombs.gif_canvas(tmp_path / "canvas.gif"),
        "16000x16000 H.264": bombs.h264_canvas(tmp_path / "canvas.h264"),
        "999 streams": bombs.many_streams(tmp_path / "streams.mkv"),
        "10 hours declared": bombs.late_frame_mkv(tmp_path / "late.mkv"),
        "1000 frames a second": bombs.fast_clip(tmp_path / "fast.mkv"),
    }
    before = web_peak_rss_mib(service)
    for name, path in made.items():
        started = time.monotonic()
        refused = upload(service, path, "mal@example.com")
        seconds = time.monotonic() - started
        assert refused.status_code == 422, (name, refused.text)
        assert refused.json()["errors"]["file"], name
        assert seconds < 15, f"{name}: refused after {seconds:.1f} s"
    growth = web_peak_rss_mib(service) - before
    assert growth < WEB_GROWTH_LIMIT_MIB, f"the web processes grew by {growth:.0f} MiB"
    entries = organizer.get(f"{service.url}/api/v1/contests/open-call/videos", timeout=30).json()
    assert entries["count"] == 0  # nothing stored, nothing queued


def test_a_file_hiding_its_length_fails_in_seconds_and_is_never_published(
    service, organizer, tmp_path
):
    hidden = bombs.late_frame_mkv(tmp_path / "hidden.mkv", hide_duration=True)
    accepted = upload(service, hidden, "hidden@example.com")
    assert accepted.status_code == 202, accepted.text  # the headers do not tell: it is queued
    video_id = accepted.json()["id"]

    def entry():
        return organizer.get(f"{service.url}/api/v1/videos/{video_id}", timeout=30).json()

    started = time.monotonic()
    service.wait_until(lambda: entry()["status"] == "failed", 90, "the conversion to fail")
    assert time.monotonic() - started < 60
    assert "long" in entry()["failure_reason"]
    assert entry()["video_url"] is None
    assert requests.get(f"{service.url}/api/v1/videos/{video_id}", timeout=30).status_code == 404
    (message,) = service.wait_until(
        lambda: service.emails_to("hidden@example.com"), 60, "the email saying why"
    )
    assert "could not convert" in message["Subject"]

    # The worker is free again: an honest entry is ready in normal time.
    honest = upload(service, make_clip(tmp_path / "honest.avi"), "honest@example.com")
    assert honest.status_code == 202
    service.wait_until(lambda: service.emails_to("honest@example.com"), 60, "the honest entry")


def test_thirty_entries_from_one_address_stop_at_the_contests_limit(service, organizer, tmp_path):
    clip = make_clip(tmp_path / "same.flv")
    answers = [upload(service, clip, "flood@example.com").status_code for _ in range(30)]
    assert answers.count(202) == 3  # the contest's default entry limit
    assert answers.count(429) == 27
    refused = upload(service, clip, "Flood+more@Example.com")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    service.wait_until(lambda: len(service.emails_to("flood@example.com")) >= 3, 120, "3 emails")
    time.sleep(2)
    assert len(service.emails_to("flood@example.com")) == 3


def test_an_entry_of_another_contest_waits_one_conversion_not_thirty(service, organizer, tmp_path):
    slow = make_clip(tmp_path / "slow.wmv", seconds=20, size="1280x720")  # seconds to convert
    with ThreadPoolExecutor(6) as pool:
        crowd_answers = list(
            pool.map(lambda n: upload(service, slow, f"crowd{n}@example.com"), range(30))
        )
    assert [answer.status_code for answer in crowd_answers] == [202] * 30
    other = open_contest(service.url, "other-call", "Other call", email="bruno@example.com")
    sent = upload(service, make_clip(tmp_path / "lone.flv"), "lone@example.com", "other-call")
    assert sent.status_code == 202
    lone_id, sent_at = sent.json()["id"], _time(sent.json()["created_at"])

    def lone():
        return other.get(f"{service.url}/api/v1/videos/{lone_id}", timeout=30).json()

    service.wait_until(lambda: lone()["status"] == "ready", 120, "the other contest's entry")
    finished = _time(lone()["finished_at"])
    crowd = organizer.get(
        f"{service.url}/api/v1/contests/open-call/videos?status=ready&page_size=100", timeout=30
    ).json()["results"]
    overtaking = [
        e for e in crowd if e["finished_at"] and sent_at < _time(e["finished_at"]) < finished
    ]
    # At most the two conversions already running when it arrived finish before it.
    assert len(overtaking) <= 2, overtaking
    queued = organizer.get(
        f"{service.url}/api/v1/contests/open-call/videos?status=queued", timeout=30
    ).json()["count"]
    assert queued >= 20  # the crowd was still waiting: the lone entry did not wait for it


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_new_account_cannot_make_the_site_mail_strangers(service, tmp_path):
    account = {"name": "Phil", "email": "phil@example.com", "password": "phil-long-password"}
    assert requests.post(f"{service.url}/api/v1/organizers", json=account, timeout=30).ok
    token = requests.post(f"{service.url}/api/v1/auth/token", json=account, timeout=30).json()
    phil = requests.Session()
    phil.headers["Authorization"] = f"Bearer {token['token']}"
    contest = {
        "name": "Win!\r\nBcc: everyone@example.com",
        "slug": "phish",
        "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
    }
    refused = phil.post(f"{service.url}/api/v1/contests", json=contest, timeout=30)
    assert refused.status_code == 400 and "name" in refused.json()["errors"]
    contest["name"] = "Claim your prize at evil.example"
    assert phil.post(f"{service.url}/api/v1/contests", json=contest, timeout=30).status_code == 201
    entry = upload(service, make_clip(tmp_path / "bait.flv"), "victim@example.com", "phish")
    assert entry.status_code == 409  # its organizer has not confirmed an address
    assert "confirmed" in entry.json()["detail"]
    time.sleep(2)
    assert service.emails_to("victim@example.com") == []
