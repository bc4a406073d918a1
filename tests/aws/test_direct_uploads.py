"""Uploads straight to S3: the web tier signs each part of one upload, the browser PUTs the
bytes to the bucket (moto's server here), the web tier completes it and makes the entry."""

import pytest
import requests

from config import security
from tests.media import make_noisy_clip
from tests.test_captions import SRT
from tests.test_captions import upload as captions_file
from videos import resumable, services
from videos.models import PartialUpload, Video

FIELDS = {"first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com", "message": "Hi"}


@pytest.fixture(scope="module")
def moto_server():
    """A local AWS of these tests' own: moto's state dump (/moto-api/data.json, which the
    mail tests read) fails once parts were sent to a signed URL."""
    from tests.servers import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def in_s3(use_storages, bucket):
    use_storages(s3_url=bucket)
    return bucket


def start(api, contest, path, **changes):
    body = {**FIELDS, "file_name": path.name, "file_size": path.stat().st_size, **changes}
    return api.post(f"/api/v1/contests/{contest.slug}/direct-uploads", body, format="json")


def send_parts(api, upload: dict, data: bytes, numbers=None) -> None:
    """What the browser does: ask the URLs, PUT each part's bytes to S3 itself."""
    numbers = numbers or list(range(1, upload["parts"] + 1))
    answer = api.post(f"/api/v1/direct-uploads/{upload['id']}/parts", {"numbers": numbers},
                      format="json")  # fmt: skip
    assert answer.status_code == 200, answer.json()
    size = upload["part_bytes"]
    for number, url in answer.json()["urls"].items():
        piece = data[(int(number) - 1) * size : int(number) * size]
        put = requests.put(url, data=piece, timeout=30)
        assert put.status_code == 200, put.text
        assert put.headers["ETag"]


def complete(api, upload: dict):
    return api.post(f"/api/v1/direct-uploads/{upload['id']}/complete")


def test_a_video_sent_to_s3_in_parts_becomes_an_entry_and_is_converted(
    api, contest, in_s3, s3, tmp_path, django_capture_on_commit_callbacks
):
    clip = make_noisy_clip(tmp_path / "take.avi", seconds=1, size="640x360")
    data = clip.read_bytes()
    started = start(api, contest, clip)
    assert started.status_code == 201, started.json()
    upload = started.json()
    assert upload["parts"] == 2  # 5 MiB and the rest
    send_parts(api, upload, data, numbers=[1])
    # Resuming: the web tier tells which parts S3 holds already.
    stored = api.get(f"/api/v1/direct-uploads/{upload['id']}/parts").json()
    assert [part["number"] for part in stored] == [1]
    send_parts(api, upload, data, numbers=[2])
    with django_capture_on_commit_callbacks(execute=True):
        done = complete(api, upload)
    assert done.status_code == 202, done.json()
    video = Video.objects.get(id=done.json()["id"])
    assert str(video.id) == upload["id"]
    assert video.original.name == f"originals/{video.id}.avi"
    assert s3.get_object(Bucket=in_s3, Key=video.original.name)["Body"].read() == data
    assert not PartialUpload.objects.exists()
    assert services.video_convert(video_id=video.id).status == Video.Status.READY


def test_a_file_that_is_not_a_video_fails_at_conversion_with_a_reason(api, contest, in_s3, clips):
    data = clips["text"].read_bytes()
    upload = start(api, contest, clips["text"]).json()
    send_parts(api, upload, data)
    assert complete(api, upload).status_code == 202
    video = services.video_convert(video_id=upload["id"])
    assert video.status == Video.Status.FAILED
    assert video.failure_reason


def test_every_refused_field_is_named_before_a_part_is_signed(api, contest, in_s3, s3, clips):
    response = start(api, contest, clips[".avi"], first_name="", email="nope")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"first_name", "email"}
    assert not s3.list_multipart_uploads(Bucket=in_s3).get("Uploads")


def test_a_file_of_another_size_than_announced_is_deleted(api, contest, in_s3, s3, clips):
    path = clips[".avi"]
    upload = start(api, contest, path, file_size=path.stat().st_size + 10).json()
    send_parts(api, upload, path.read_bytes())
    response = complete(api, upload)
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert not s3.list_objects_v2(Bucket=in_s3).get("Contents")
    assert not Video.objects.exists()


def test_urls_are_signed_only_for_the_uploads_own_parts(api, contest, in_s3, clips):
    upload = start(api, contest, clips[".avi"]).json()
    url = f"/api/v1/direct-uploads/{upload['id']}/parts"
    response = api.post(url, {"numbers": [2]}, format="json")
    assert response.status_code == 400
    (signed,) = api.post(url, {"numbers": [1]}, format="json").json()["urls"].values()
    assert f"/originals/{upload['id']}.avi?" in signed
    assert "uploadId=" in signed and "partNumber=1" in signed
    assert "X-Amz-Expires=900" in signed  # 15 minutes


def test_unfinished_uploads_expire_and_their_parts_are_dropped(api, contest, in_s3, s3, clips):
    upload = start(api, contest, clips[".avi"]).json()
    send_parts(api, upload, clips[".avi"].read_bytes())
    assert s3.list_multipart_uploads(Bucket=in_s3).get("Uploads")
    PartialUpload.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert resumable.uploads_expire() == 1
    assert not s3.list_multipart_uploads(Bucket=in_s3).get("Uploads")


def test_with_files_on_this_disk_uploads_go_to_the_site(api, contest, clips):
    assert start(api, contest, clips[".avi"]).status_code == 404


def test_the_contest_page_sends_to_the_bucket_its_policy_allows(
    client, contest, use_storages, bucket, aws
):
    use_storages(s3_url=bucket, cf_url="d111abcdef8")
    response = client.get(f"/{contest.slug}/")
    page = response.content.decode()
    assert f'data-direct-url="/api/v1/contests/{contest.slug}/direct-uploads"' in page
    assert "data-resumable-url" not in page  # tus keeps its pieces on the web tier's disk
    parts = (part.split() for part in response["Content-Security-Policy"].split(";"))
    policy = {part[0]: part[1:] for part in parts if part}
    # The parts go to the bucket's endpoint (moto's here), the public files come from CloudFront.
    assert security.upload_origins() == [aws.url]
    assert aws.url in policy["connect-src"]
    assert "https://d111abcdef8.cloudfront.net" in policy["connect-src"]


def test_captions_sent_before_completing_go_with_the_entry(api, contest, in_s3, clips):
    upload = start(api, contest, clips[".avi"], captions_language="pt-BR").json()
    send_parts(api, upload, clips[".avi"].read_bytes())
    sent = api.put(f"/api/v1/direct-uploads/{upload['id']}/captions",
                   {"file": captions_file(SRT), "language": "pt-BR"})  # fmt: skip
    assert sent.status_code == 204, sent.content
    assert complete(api, upload).status_code == 202
    entry = Video.objects.get(id=upload["id"])
    assert entry.captions.startswith("WEBVTT\n\n00:00:01.000")
    assert entry.captions_language == "pt-BR"
