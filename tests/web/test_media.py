"""/media/: the public files (converted videos, posters, banners), with byte ranges."""

import asyncio
import hashlib
import os
import shutil
import tracemalloc
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIHandler

from tests.web.helpers import ready_video, video_with_original


@pytest.fixture
def converted(contest, mp4):
    """A ready entry whose converted MP4 is really in the public storage."""
    video = ready_video(contest, 0)
    with open(mp4, "rb") as handle:
        video.converted.save(f"videos/{video.id}.mp4", File(handle))
    yield video
    video.converted.storage.delete(video.converted.name)


def test_it_serves_a_converted_video_and_offers_ranges(client, converted, mp4):
    response = client.get(converted.converted.url)
    assert response.status_code == 200
    assert (response["Content-Type"], response["Accept-Ranges"]) == ("video/mp4", "bytes")
    assert response.getvalue() == mp4.read_bytes()


def test_what_we_made_is_shown_inline_with_its_type_and_never_sniffed(client, converted):
    response = client.get(converted.converted.url)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{converted.id}.mp4"'
    assert response["Cache-Control"] == "public, max-age=3600"
    ranged = client.get(converted.converted.url, headers={"Range": "bytes=0-9"})
    assert (ranged["Content-Type"], ranged["X-Content-Type-Options"]) == ("video/mp4", "nosniff")


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("posters/x.jpg", "image/jpeg"),
        ("banners/b-1.png", "image/png"),
        ("banners/b-1.webp", "image/webp"),
        ("banners/b-1.jpg", "image/jpeg"),
    ],
)
def test_pictures_we_make_are_typed_by_their_folder_and_extension(client, db, name, content_type):
    default_storage.save(name, ContentFile(b"picture"))
    try:
        response = client.get(f"/media/{name}")
    finally:
        default_storage.delete(name)
    assert (response.status_code, response["Content-Type"]) == (200, content_type)
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize("name", ["videos/x.html", "posters/x.svg", "banners/x.gif"])
def test_anything_else_in_a_public_folder_is_a_download(client, db, name):
    default_storage.save(name, ContentFile(b"<svg onload=alert(1)>"))
    try:
        response = client.get(f"/media/{name}")
    finally:
        default_storage.delete(name)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_files_outside_the_public_folders_are_not_served(client, db):
    name = default_storage.save("elsewhere/notes.txt", ContentFile(b"private"))
    try:
        assert client.get(f"/media/{name}").status_code == 404
    finally:
        default_storage.delete(name)


def test_a_range_request_gets_exactly_those_bytes(client, converted, mp4):
    size = mp4.stat().st_size
    response = client.get(converted.converted.url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.getvalue() == mp4.read_bytes()[:10]
    assert (response["Content-Length"], response["Content-Range"]) == ("10", f"bytes 0-9/{size}")


def test_a_range_for_the_last_bytes_gets_the_end(client, converted, mp4):
    size = mp4.stat().st_size
    response = client.get(converted.converted.url, headers={"Range": "bytes=-5"})
    assert response.status_code == 206
    assert response.getvalue() == mp4.read_bytes()[-5:]
    assert response["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"


def test_it_refuses_a_range_past_the_end_with_416(client, converted, mp4):
    size = mp4.stat().st_size
    response = client.get(converted.converted.url, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_an_unknown_file_is_404(client, db):
    assert client.get("/media/videos/no-such-video.mp4").status_code == 404


@pytest.mark.parametrize(
    "path", ["../originals/{name}", "%2e%2e/originals/{name}", "videos/../../originals/{name}"]
)
def test_a_path_out_of_media_is_404(client, contest, clips, path):
    name = video_with_original(contest, clips[".avi"]).original.name
    target = Path(default_storage.location, unquote(path.format(name=name)))
    assert target.resolve().is_file()  # the path does lead to the stored original
    assert client.get("/media/" + path.format(name=name)).status_code == 404


def test_originals_are_never_served_under_media(client, contest, clips):
    name = video_with_original(contest, clips[".avi"]).original.name  # originals/<id>.avi
    for path in (name, name.removeprefix("originals/"), f"originals/{name}"):
        assert client.get(f"/media/{path}").status_code == 404


def test_it_refuses_an_absolute_path(client, db):
    assert client.get("/media//etc/passwd").status_code == 404


# ---------------------------------------------------------------- under the ASGI server

BIG = 48 * 1024 * 1024


@pytest.fixture
def big_file(tmp_path) -> Path:
    path = tmp_path / "big"
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        for n in range(BIG // len(block)):
            handle.write(block[n:] + block[:n])
    return path


def served(app, path: str, headers=()) -> dict:
    """GET `path` from the ASGI app; what reached the client, and the most memory Python held
    meanwhile (tracemalloc: every allocation, in every thread)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    result = {"digest": hashlib.sha256(), "size": 0, "largest_part": 0}

    async def main():
        requested, answered = False, asyncio.Event()

        async def receive():
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
                return
            body = message.get("body", b"")
            result["digest"].update(body)
            result["size"] += len(body)
            result["largest_part"] = max(result["largest_part"], len(body))
            if not message.get("more_body"):
                answered.set()

        await app(scope, receive, send)

    tracemalloc.start()
    try:
        asyncio.run(main())
        result["peak_memory"] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result


def stored_in_media(big_file: Path, name: str) -> str:
    target = Path(default_storage.location, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(big_file, target)
    return name


def test_a_big_video_is_sent_piece_by_piece_never_whole_in_memory(big_file):
    from config.asgi import application

    name = stored_in_media(big_file, "videos/big-test.mp4")
    try:
        whole = served(application, f"/media/{name}")
        ranged = served(application, f"/media/{name}", [(b"range", b"bytes=1000-")])
        # The measurement sees a whole-file read: Django's own handler reads it so, and says so.
        with pytest.warns(Warning, match="must consume synchronous iterators"):
            djangos = served(ASGIHandler(), f"/media/{name}")
    finally:
        default_storage.delete(name)
    content = big_file.read_bytes()
    assert (whole["status"], whole["size"]) == (200, BIG)
    assert whole["digest"].hexdigest() == hashlib.sha256(content).hexdigest()
    assert (ranged["status"], ranged["size"]) == (206, BIG - 1000)
    assert ranged["digest"].hexdigest() == hashlib.sha256(content[1000:]).hexdigest()
    for answer in (whole, ranged):
        assert answer["largest_part"] <= 256 * 1024
        assert answer["peak_memory"] < 8 * 1024 * 1024
    assert djangos["peak_memory"] > BIG


def test_a_big_static_file_is_sent_piece_by_piece(big_file):
    from config.asgi import Handler

    target = Path(settings.STATIC_ROOT, "big-test.bin")
    shutil.copyfile(big_file, target)
    try:
        answer = served(Handler(), "/static/big-test.bin")  # whitenoise finds files at start
    finally:
        target.unlink()
    assert (answer["status"], answer["size"]) == (200, BIG)
    assert answer["peak_memory"] < 8 * 1024 * 1024
