"""Timing uploads through the real service, for the benchmarks: upload, then when it was ready.

"Ready" is the moment the worker marked the entry ready (its finished_at, from the organizer's
API: the server's clock, which is this machine's), counted from when the upload's answer
arrived here. Nothing in between is polled on the critical path: the wait only decides when to
ask again.
"""

import json
import time
from datetime import datetime
from pathlib import Path

import requests

from tests.e2e.service import Service, open_contest  # noqa: F401 - for the benchmarks


def start(folder: Path, **config: str) -> tuple[Service, requests.Session]:
    """The embedded service with an open contest "bench"; the organizer's session."""
    service = Service(folder / "service", **config).start()
    try:
        session = open_contest(service.url, "bench", "Bench")
    except BaseException:
        service.stop()
        raise
    return service, session


def upload(service: Service, clip: Path, email: str) -> tuple[str, float]:
    """Upload `clip` through the API; its video id and when the answer arrived (time.time())."""
    with open(clip, "rb") as handle:
        response = requests.post(
            f"{service.url}/api/v1/contests/bench/videos",
            data={"first_name": "Bench", "last_name": clip.suffix, "email": email},
            files={"file": (clip.name, handle)},
            timeout=300,
        )
    answered = time.time()
    response.raise_for_status()
    return response.json()["id"], answered


def ready_at(service: Service, session: requests.Session, video_id: str, seconds: float) -> float:
    """When the entry became ready (time.time() scale); fails if it failed or took too long."""
    url = f"{service.url}/api/v1/videos/{video_id}"
    deadline = time.monotonic() + seconds
    pause = 0.02
    while time.monotonic() < deadline:
        try:
            entry = session.get(url, timeout=30).json()
        except (requests.RequestException, ValueError):
            entry = {}
        if entry.get("status") == "ready":
            return datetime.fromisoformat(entry["finished_at"]).timestamp()
        if entry.get("status") == "failed":
            raise AssertionError(f"{video_id} failed: {entry.get('failure_reason')}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    raise AssertionError(f"{video_id} was not ready after {seconds} s; logs in {service.logs}")


def wait_for_emails(service: Service, count: int, seconds: float) -> None:
    """Until the mail folder holds `count` messages (one per finished entry, ready or failed):
    the end of a batch, seen without asking the web process (whose CPU a batch shares)."""
    folder = service.data_dir / "mail"
    service.wait_until(
        lambda: folder.exists() and sum(1 for _ in folder.glob("*.eml")) >= count,
        seconds,
        f"{count} emails in {folder}",
    )


def worker_seconds(service: Service) -> dict[str, float]:
    """Each converted entry's time inside the worker (its video_converted log event)."""
    found = {}
    for path in service.logs.glob("worker*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"video_converted"' not in line:
                continue
            try:
                event = json.loads(line[line.index("{") :])
            except ValueError:
                continue
            found[event.get("video_id")] = float(event.get("seconds", 0))
    return found


def makespan(service: Service, video_ids: list[str]) -> float:
    """Seconds from the first of these entries' claims to the last one's "ready" (their
    started_at and finished_at, read through Django from whichever database the service uses)."""
    script = (
        "from django.db.models import Count, Max, Min; from videos.models import Video; "
        f"span = Video.objects.filter(id__in={video_ids!r}, status='ready')"
        ".aggregate(n=Count('id'), a=Min('started_at'), b=Max('finished_at')); "
        "print(span['n'], (span['b'] - span['a']).total_seconds())"
    )
    count, seconds = service.manage("shell", "-c", script).splitlines()[-1].split()
    assert int(count) == len(video_ids), f"{count} of {len(video_ids)} ready"
    return float(seconds)
