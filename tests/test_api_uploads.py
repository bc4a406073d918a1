"""Resumable uploads (tus 1.0): POST /contests/<slug>/uploads, HEAD/PATCH/DELETE /uploads/<id>."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.test_captions import SRT, upload
from videos import resumable
from videos.models import PartialUpload, Video

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def meta(**changes) -> str:
    fields = {"first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com",
              "message": "Hola!", "filename": "holiday.avi"} | changes  # fmt: skip
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items()
    )


def start(api, contest, length: int, **changes):
    return api.post(
        f"/api/v1/contests/{contest.slug}/uploads",
        HTTP_UPLOAD_LENGTH=str(length),
        HTTP_UPLOAD_METADATA=meta(**changes),
        **TUS,
    )


def send(api, location: str, offset: int, piece: bytes):
    return api.generic(
        "PATCH", location, piece, content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset), **TUS,
    )  # fmt: skip


def offset_of(api, location: str) -> int:
    response = api.head(location, **TUS)
    assert response.status_code == 200
    return int(response["Upload-Offset"])


def test_it_says_what_it_supports(api, contest):
    response = api.options(f"/api/v1/contests/{contest.slug}/uploads")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination,expiration"


def test_a_video_sent_in_pieces_becomes_an_entry(
    api, contest, clips, django_capture_on_commit_callbacks
):
    video = clips[".avi"].read_bytes()
    created = start(api, contest, len(video))
    assert created.status_code == 201, created.json()
    location = created["Location"]
    assert created["Upload-Expires"]
    third = len(video) // 3
    assert send(api, location, 0, video[:third]).status_code == 204
    assert offset_of(api, location) == third
    # A piece sent again from a stale offset is refused: nothing is written twice.
    assert send(api, location, 0, video[:third]).status_code == 409
    assert offset_of(api, location) == third
    with django_capture_on_commit_callbacks(execute=True):
        done = send(api, location, third, video[third:])
    assert done.status_code == 204
    entry = Video.objects.get(id=done["Upload-Entry"])
    assert entry.status == Video.Status.QUEUED
    assert (entry.first_name, entry.email, entry.original_size) == ("Ana", "ana@example.com",
                                                                    len(video))  # fmt: skip
    assert entry.original.storage.open(entry.original.name).read() == video
    assert api.head(location, **TUS)["Upload-Entry"] == str(entry.id)
    assert not resumable.partial_path(PartialUpload.objects.get()).exists()  # moved


def test_it_refuses_every_bad_field_before_a_byte_is_sent(api, contest):
    response = start(api, contest, 1000, first_name="", email="nope")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"first_name", "email"}
    assert not PartialUpload.objects.exists()


def test_it_refuses_a_file_over_the_limit_by_its_declared_length(api, contest, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    assert start(api, contest, 1001).status_code == 413
    assert not PartialUpload.objects.exists()


def test_starting_counts_against_the_uploads_of_a_network(api, contest, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 1
    assert start(api, contest, 1000).status_code == 201
    refused = start(api, contest, 1000)
    assert refused.status_code == 429
    assert refused["Retry-After"]


def test_a_piece_past_the_declared_length_is_refused(api, contest):
    location = start(api, contest, 10)["Location"]
    assert send(api, location, 0, b"x" * 11).status_code == 413
    assert offset_of(api, location) == 0


def test_a_completed_file_that_is_not_a_video_is_refused_and_gone(api, contest, clips):
    text = clips["text"].read_bytes()
    location = start(api, contest, len(text))["Location"]
    response = send(api, location, 0, text)
    assert response.status_code == 415
    assert response.json()["errors"]["file"]
    assert not Video.objects.exists()
    assert api.head(location, **TUS).status_code == 404


def test_it_needs_the_protocol_version(api, contest):
    response = api.post(f"/api/v1/contests/{contest.slug}/uploads", HTTP_UPLOAD_LENGTH="10")
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"


def test_an_upload_can_be_given_up(api, contest):
    location = start(api, contest, 10)["Location"]
    send(api, location, 0, b"12345")
    assert api.delete(location, **TUS).status_code == 204
    assert api.head(location, **TUS).status_code == 404
    assert not resumable.partial_path(PartialUpload(id=location.rsplit("/", 1)[1])).exists()


@pytest.mark.parametrize("hours, kept", [(23, 1), (25, 0)])
def test_unfinished_uploads_expire_a_day_after_their_last_piece(api, contest, hours, kept):
    location = start(api, contest, 10)["Location"]
    send(api, location, 0, b"12345")
    path = resumable.partial_path(PartialUpload.objects.get())
    resumable.uploads_expire(now=timezone.now() + timedelta(hours=hours))
    assert PartialUpload.objects.count() == kept
    assert path.exists() is bool(kept)
    assert (api.head(location, **TUS).status_code == 200) is bool(kept)


def test_captions_sent_before_the_last_piece_go_with_the_entry(
    api, contest, clips, django_capture_on_commit_callbacks
):
    video = clips[".avi"].read_bytes()
    location = start(api, contest, len(video))["Location"]
    half = len(video) // 2
    assert send(api, location, 0, video[:half]).status_code == 204
    refused = api.put(f"{location}/captions", {"file": upload("not captions"), "language": "x y"})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"file", "language"}
    sent = api.put(f"{location}/captions", {"file": upload(SRT), "language": "es"})
    assert sent.status_code == 204, sent.content
    with django_capture_on_commit_callbacks(execute=True):
        done = send(api, location, half, video[half:])
    entry = Video.objects.get(id=done["Upload-Entry"])
    assert entry.captions.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500")
    assert entry.captions_language == "es"
    # The entry is the organizer's to change now.
    late = api.put(f"{location}/captions", {"file": upload(SRT), "language": "en"})
    assert late.status_code == 409
