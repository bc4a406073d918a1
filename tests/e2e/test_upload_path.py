"""An entry's file through the real web process (config/asgi.py, config/uploads.py): by the API
and by the contest page's form, in one piece or chunked, the stored original is byte for byte
what was sent, and nothing is left in the upload folder."""

import re
import subprocess
from collections.abc import Iterator

import pytest
import requests
from urllib3 import encode_multipart_formdata

from tests.e2e.service import Service, open_contest
from tests.media import FFMPEG

pytestmark = pytest.mark.e2e

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    service = Service(tmp_path_factory.mktemp("upload-path")).start(worker=False)
    try:
        service.organizer = open_contest(service.url, "path-cup", "Path cup")
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """An uncompressed AVI of some 8 MB: many reads of the body, a file the check accepts."""
    path = tmp_path_factory.mktemp("video") / "entry.avi"
    command = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=25", "-frames:v", "18",
        "-c:v", "rawvideo", "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    return path


def form(video, email: str, **extra: str) -> tuple[bytes, str]:
    return encode_multipart_formdata(
        {
            **extra,
            "first_name": "Ana",
            "last_name": "Diaz",
            "email": email,
            "file": (video.name, video.read_bytes(), "video/x-msvideo"),
        }
    )


def in_parts(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 100_000):
        yield body[start : start + 100_000]


def stored_original(site, video_id: str) -> bytes:
    response = site.organizer.get(f"{site.url}/api/v1/videos/{video_id}/original", timeout=60)
    assert response.status_code == 200, response.text
    return response.content


def upload_folder(site) -> list[str]:
    return sorted(path.name for path in (site.data_dir / "tmp").iterdir())


def upload_folder_empties(site) -> bool:
    """The request's files go when it ends, just after its answer was sent."""
    site.wait_until(lambda: upload_folder(site) == [], 10, f"{upload_folder(site)} to go")
    return True


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_api_stores_the_file_as_sent_and_leaves_no_temporary_file(site, video, chunked):
    body, content_type = form(video, f"api-{chunked}@example.com")
    response = requests.post(
        f"{site.url}/api/v1/contests/path-cup/videos",
        data=in_parts(body) if chunked else body,
        headers={"Content-Type": content_type},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    assert stored_original(site, response.json()["id"]) == video.read_bytes()
    assert upload_folder(site) == []  # the file was moved into the storage


def test_the_page_form_stores_the_file_as_sent(site, video):
    browser = requests.Session()
    page = browser.get(f"{site.url}/path-cup/", timeout=30)
    token = CSRF_FIELD.search(page.text)[1]
    body, content_type = form(video, "page@example.com", csrfmiddlewaretoken=token)
    response = browser.post(
        f"{site.url}/path-cup/",
        data=body,
        headers={"Content-Type": content_type},
        timeout=60,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[-2000:]
    entries = site.organizer.get(f"{site.url}/api/v1/contests/path-cup/videos", timeout=30).json()
    (entry,) = [e for e in entries["results"] if e["email"] == "page@example.com"]
    assert stored_original(site, entry["id"]) == video.read_bytes()
    assert upload_folder(site) == []  # the file was moved into the storage


def test_a_refused_file_leaves_no_temporary_file(site, tmp_path):
    fake = tmp_path / "notes.avi"
    fake.write_bytes(b"not a video at all\n" * 50_000)
    body, content_type = form(fake, "fake@example.com")
    response = requests.post(
        f"{site.url}/api/v1/contests/path-cup/videos",
        data=body,
        headers={"Content-Type": content_type},
        timeout=60,
    )
    assert response.status_code == 415, response.text  # not a video
    assert response.json()["errors"]["file"]
    assert upload_folder_empties(site)
