"""/media/: the public files (converted videos, posters, banners), with byte ranges."""

from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.files import File
from django.core.files.storage import default_storage

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
