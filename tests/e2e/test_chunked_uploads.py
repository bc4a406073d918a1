"""Bodies sent with Transfer-Encoding: chunked (no Content-Length), as streaming clients and
proxies send them, against the real web process: read whole within the limit, cut off with a
JSON 413 once past it. They used to be read as empty (an upload "without a file")."""

import json
import select
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from urllib3 import encode_multipart_formdata

from tests.e2e.service import Service, open_contest

pytestmark = pytest.mark.e2e

LIMIT_MB = 2  # max_upload_mb of the site: past 3 MiB (the limit and 1 MiB of form) it stops
PART = 64 * 1024
ENDLESS = 50 * 2**20  # what the client would send if nothing stopped it


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    service = Service(tmp_path_factory.mktemp("chunked"), max_upload_mb=str(LIMIT_MB))
    service.start(worker=False)
    try:
        service.organizer = open_contest(service.url, "chunk-cup", "Chunk cup")
        yield service
    finally:
        service.stop()


def in_parts(body: bytes) -> Iterator[bytes]:
    """A body as a generator: requests sends it chunked, without a Content-Length."""
    for start in range(0, len(body), PART):
        yield body[start : start + PART]


def entry(clip) -> tuple[bytes, str]:
    return encode_multipart_formdata(
        {
            "first_name": "Ana",
            "last_name": "Diaz",
            "email": "ana@example.com",
            "message": "Sent in chunks",
            "file": (clip.name, clip.read_bytes(), "video/x-msvideo"),
        }
    )


def test_a_chunked_upload_is_received_whole(site, clips):
    body, content_type = entry(clips[".avi"])
    response = requests.post(
        f"{site.url}/api/v1/contests/chunk-cup/videos",
        data=in_parts(body),
        headers={"Content-Type": content_type},
        timeout=60,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["participant_name"], accepted["message"]) == ("Ana Diaz", "Sent in chunks")
    stored = site.organizer.get(f"{site.url}/api/v1/videos/{accepted['id']}", timeout=30).json()
    assert stored["original_size"] == clips[".avi"].stat().st_size
    assert stored["original_name"] == clips[".avi"].name


def test_a_chunked_json_body_is_read(site):
    now = datetime.now(UTC)
    contest = {
        "name": "Chunked contest",
        "slug": "chunked-contest",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }
    response = site.organizer.post(
        f"{site.url}/api/v1/contests",
        data=in_parts(json.dumps(contest).encode()),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Chunked contest"


def test_a_chunked_upload_past_the_limit_is_cut_off(site):
    """The server stops reading at the limit and answers 413 (JSON) or, when the client's
    bytes still in flight make the closing connection reset first, just closes it: either way
    the body is not read to its end."""
    head = (
        "POST /api/v1/contests/chunk-cup/videos HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{site.port}\r\n"
        "Content-Type: multipart/form-data; boundary=chunkchunkchunk\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    part = f"{PART:x}\r\n".encode() + b"x" * PART + b"\r\n"
    sent, answer, reset = 0, b"", False
    with socket.create_connection(("127.0.0.1", site.port), timeout=30) as sock:
        try:
            sock.sendall(head)
            while sent < ENDLESS and not select.select([sock], [], [], 0)[0]:
                sock.sendall(part)
                sent += PART
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:  # reset, broken pipe
            reset = True
    assert sent < ENDLESS  # cut off, not read to the end
    assert sent >= (LIMIT_MB + 1) * 2**20  # but not before the limit
    if answer or not reset:
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413 "), answer[:300]
        headers, _, body = rest.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in headers.lower()
        assert json.loads(body)["detail"] == f"The file is larger than {LIMIT_MB} MB."
    print(f"\ncut off after {sent / 2**20:.1f} MiB: {'413' if answer else 'reset'}")
