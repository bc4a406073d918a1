"""The whole product through its front door: real web process, real worker, real ffmpeg."""

import json
import os
import re
import shutil
import subprocess
import time
from urllib.parse import urlparse

import pytest
import requests

import transcoding
from tests.e2e.service import Service, open_contest
from tests.media import make_clip, make_damaged_clip, make_noisy_clip, require_ffprobe

pytestmark = pytest.mark.e2e

LINK = re.compile(r"(http://\S+/videos/[0-9a-f-]{36}/)")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    # Short leases and sweeps, so that a killed worker's job is taken over in seconds.
    running = Service(
        tmp_path_factory.mktemp("service"), job_lease_seconds="8", sweep_seconds="2"
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def organizer(service):
    return open_contest(service.url, "open-film-fest", "Open film fest")


def upload(service, path, email):
    with open(path, "rb") as handle:
        return requests.post(
            f"{service.url}/api/v1/contests/open-film-fest/videos",
            data={"first_name": "Pat", "last_name": path.suffix, "email": email, "message": "hi"},
            files={"file": (path.name, handle)},
            timeout=60,
        )


def check_browser_mp4(path):
    """ffprobe when installed (an independent reader), else PyAV."""
    if shutil.which("ffprobe") or os.environ.get("CI"):
        report = subprocess.run(
            [require_ffprobe(), "-v", "error", "-show_streams", "-of", "json", str(path)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        streams = {s["codec_type"]: s for s in json.loads(report)["streams"]}
        assert streams["video"]["codec_name"] == "h264"
        assert streams["video"]["pix_fmt"] == "yuv420p"
        assert streams["audio"]["codec_name"] == "aac"
    info = transcoding.probe(path)
    assert (info.video.codec, info.video.pix_fmt, info.audio.codec) == ("h264", "yuv420p", "aac")
    head = path.read_bytes()[:200_000]
    assert head.find(b"moov") < head.find(b"mdat"), "not faststart"


def test_flv_wmv_and_avi_uploads_become_mp4s_and_emails(service, organizer, tmp_path):
    sent = {}
    for suffix in (".flv", ".wmv", ".avi"):
        clip = make_clip(tmp_path / f"entry{suffix}", seconds=2, size="640x360")
        address = f"pat{suffix[1:]}@example.com"
        response = upload(service, clip, address)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        sent[address] = response.json()["id"]

    service.wait_until(lambda: all(service.emails_to(a) for a in sent), 180, "three emails")
    for address, video_id in sent.items():
        (message,) = service.emails_to(address)
        assert "is ready" in message["Subject"]
        link = LINK.search(message.get_body(("plain",)).get_content()).group(1)
        assert video_id in link
        page = requests.get(link)
        assert page.status_code == 200
        video = requests.get(f"{service.url}/api/v1/videos/{video_id}").json()
        assert (video["width"], video["height"]) == (640, 360)
        assert urlparse(video["video_url"]).path in page.text
        mp4 = requests.get(video["video_url"])
        assert mp4.headers["Content-Type"] == "video/mp4"
        local = tmp_path / f"{video_id}.mp4"
        local.write_bytes(mp4.content)
        check_browser_mp4(local)
        part = requests.get(video["video_url"], headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        assert requests.get(video["poster_url"]).content[:2] == b"\xff\xd8"

    # The worker's stream thread makes every ready entry's HLS stream, no job message needed.
    def streams_made() -> bool:
        entries = [organizer.get(f"{service.url}/api/v1/videos/{v}").json() for v in sent.values()]
        return all(entry["streams_status"] == "ready" for entry in entries)

    service.wait_until(streams_made, 120, "the three streams")
    for video_id in sent.values():
        stream = requests.get(f"{service.url}/api/v1/videos/{video_id}").json()["stream_url"]
        playlist = requests.get(stream)
        assert playlist.status_code == 200 and playlist.text.startswith("#EXTM3U")

    public = requests.get(f"{service.url}/api/v1/contests/open-film-fest/videos").json()
    assert public["count"] == 3
    assert "@example.com" not in str(public)
    assert "@example.com" not in requests.get(f"{service.url}/open-film-fest/").text


def test_a_broken_upload_fails_cleanly_and_the_participant_learns_why(service, organizer, tmp_path):
    broken = make_damaged_clip(tmp_path / "broken.avi")
    response = upload(service, broken, "broken@example.com")
    assert response.status_code == 202, response.text
    video_id = response.json()["id"]

    (message,) = service.wait_until(
        lambda: service.emails_to("broken@example.com"), 120, "the email"
    )
    assert "could not convert" in message["Subject"]
    entry = organizer.get(f"{service.url}/api/v1/videos/{video_id}").json()
    assert entry["status"] == "failed" and entry["failure_reason"]
    assert entry["failure_reason"] in message.get_body(("plain",)).get_content()
    assert requests.get(f"{service.url}/api/v1/videos/{video_id}").status_code == 404
    # The worker is still fine: the next upload converts.
    ok = upload(service, make_clip(tmp_path / "after.flv"), "after@example.com")
    assert ok.status_code == 202
    service.wait_until(lambda: service.emails_to("after@example.com"), 120, "the next email")


def test_a_job_of_a_killed_worker_is_finished_by_another(service, organizer, tmp_path):
    slow = make_noisy_clip(tmp_path / "slow.avi", seconds=20)
    response = upload(service, slow, "slow@example.com")
    assert response.status_code == 202
    video_id = response.json()["id"]

    def state():
        return organizer.get(f"{service.url}/api/v1/videos/{video_id}").json()["status"]

    service.wait_until(lambda: state() == "processing", 60, "the conversion to start")
    time.sleep(1)
    service.kill("worker")  # SIGKILL: no goodbye, the job is left claimed
    killed_at = time.monotonic()
    assert state() == "processing"
    service.start_worker("worker-2")
    # No more heartbeats: the claim lapses within a lease, a sweep sends the job again.
    service.wait_until(lambda: state() == "ready", 180, "the second worker to finish the job")
    print(f"killed worker's job ready {time.monotonic() - killed_at:.1f} s after the kill")
    service.wait_until(lambda: service.emails_to("slow@example.com"), 60, "the email")
    time.sleep(3)
    assert len(service.emails_to("slow@example.com")) == 1
    assert organizer.get(f"{service.url}/api/v1/videos/{video_id}").json()["status"] == "ready"
