"""Files on S3 (+ CloudFront): uploads, conversions and links, through the real services."""

import hashlib
import tracemalloc
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import TemporaryUploadedFile

import transcoding
from config import storage
from config.loader import ConfigError
from tests.aws.conftest import configure
from videos import assets, files, services
from videos.models import Video

MB = 1024 * 1024


def temporary_upload(path, name=None) -> TemporaryUploadedFile:
    """An upload as the web tier holds it: already in a temporary file on disk."""
    data = path.read_bytes()
    upload = TemporaryUploadedFile(name or path.name, "video/x-msvideo", len(data), None)
    upload.write(data)
    upload.seek(0)
    return upload


def submit(contest, path, name=None):
    return services.video_submit(
        contest=contest, first_name="Ana", last_name="Diaz", email="ana@example.com",
        message="Hola", upload=temporary_upload(path, name),
    )  # fmt: skip


def keys(s3, bucket) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_an_entry_goes_to_the_bucket_and_its_mp4_is_served_by_cloudfront(
    use_storages, s3, bucket, contest, clips, tmp_path
):
    use_storages(s3_url=bucket, cf_url="d111abcdef8")
    video = submit(contest, clips[".avi"])
    assert keys(s3, bucket) == {f"originals/{video.id}.avi"}

    assert services.video_convert(video_id=video.id).status == "ready"
    video.refresh_from_db()
    assert keys(s3, bucket) == {
        f"originals/{video.id}.avi", f"videos/{video.id}.mp4", f"posters/{video.id}.jpg",
        f"entries/{video.id}/thumb-320.jpg", f"entries/{video.id}/thumb-640.jpg",
    }  # fmt: skip
    assert video.converted.url == f"https://d111abcdef8.cloudfront.net/videos/{video.id}.mp4"
    assert video.poster.url == f"https://d111abcdef8.cloudfront.net/posters/{video.id}.jpg"
    head = s3.head_object(Bucket=bucket, Key=f"videos/{video.id}.mp4")
    assert head["ContentType"] == "video/mp4"
    mp4 = tmp_path / "out.mp4"
    s3.download_file(bucket, f"videos/{video.id}.mp4", str(mp4))
    assert transcoding.probe(mp4).video.codec == "h264"


def test_an_entrys_stream_is_stored_with_its_types_and_follows_it_when_hidden(
    use_storages, s3, bucket, contest, clips
):
    use_storages(s3_url=bucket, cf_url="d111abcdef8")
    video = submit(contest, clips[".avi"])
    services.video_convert(video_id=video.id)
    assert services.video_make_streams(video_id=video.id)
    video.refresh_from_db()
    folder = f"entries/{video.id}/"
    stored = {key for key in keys(s3, bucket) if key.startswith(folder)}
    assert {folder + "master.m3u8", folder + "storyboard.vtt", folder + "storyboard.jpg"} <= stored
    types = {
        key.rsplit(".", 1)[1]: s3.head_object(Bucket=bucket, Key=key)["ContentType"]
        for key in stored
    }
    assert types == {
        "m3u8": "application/vnd.apple.mpegurl",
        "m4s": "video/mp4",
        "vtt": "text/vtt",
        "jpg": "image/jpeg",
    }
    assert assets.stream_url(video) == f"https://d111abcdef8.cloudfront.net/{folder}master.m3u8"

    services.video_set_hidden(video=video, hidden=True)
    assert not any(key.startswith(folder) for key in keys(s3, bucket))
    hidden = {key for key in keys(s3, bucket) if key.startswith("hidden/" + folder)}
    assert {key.removeprefix("hidden/") for key in hidden} == stored


@pytest.mark.parametrize(
    "cf_url, host",
    [
        ("5sRrs3wsefd", "5sRrs3wsefd.cloudfront.net"),  # what the seed stores
        ("d2x.cloudfront.net", "d2x.cloudfront.net"),
        ("https://videos.example.org/", "videos.example.org"),
    ],
)
def test_cloudfront_is_named_by_subdomain_or_host(cf_url, host):
    assert storage.cloudfront_host(configure(cf_url=cf_url)) == host


@pytest.mark.parametrize(
    "key, value",
    [
        ("s3_url", "my bucket/x"),
        ("cf_url", "cdn/path?x"),
        ("cf_distribution_id", "d111abcdef8.cloudfront.net"),
        ("hidden_link_seconds", "30"),
        ("hidden_link_seconds", "700000"),  # over S3's 7 days
        ("hidden_link_seconds", "4h"),
    ],
)
def test_a_malformed_bucket_or_cloudfront_name_stops_start_up(key, value, tmp_path):
    config = configure(**{"s3_url": "bucket-ok", key: value})
    with pytest.raises(ConfigError, match=key):
        storage.storages(config, tmp_path)


def test_without_cloudfront_public_urls_are_plain_s3_urls(use_storages, aws, bucket):
    use_storages(s3_url=bucket)
    default_storage.save("posters/p.jpg", ContentFile(b"\xff\xd8 picture"))
    assert default_storage.url("posters/p.jpg") == f"{aws.url}/{bucket}/posters/p.jpg"


def test_public_files_may_be_public_and_originals_never_are(use_storages, bucket, contest, clips):
    use_storages(s3_url=bucket, s3_public_acl="public-read")
    default_storage.save("posters/p.jpg", ContentFile(b"\xff\xd8 picture"))
    assert requests.get(default_storage.url("posters/p.jpg")).content == b"\xff\xd8 picture"

    video = submit(contest, clips[".avi"])
    signed = urlparse(video.original.url)
    unsigned = signed._replace(query="").geturl()
    assert requests.get(unsigned).status_code == 403  # anonymous: no ACL makes it public


def test_the_organizer_gets_a_short_lived_download_link(
    use_storages, bucket, contest, clips, alice_api, bob_api
):
    use_storages(s3_url=bucket, cf_url="d111abcdef8")  # CloudFront must not serve originals
    video = submit(contest, clips[".avi"], name="película de Ana.avi")

    assert bob_api.get(f"/api/v1/videos/{video.id}/original").status_code == 404
    response = alice_api.get(f"/api/v1/videos/{video.id}/original")
    assert response.status_code == 302
    link = urlparse(response["Location"])
    assert link.path == f"/{bucket}/originals/{video.id}.avi"
    query = parse_qs(link.query)
    assert query["X-Amz-Expires"] == ["300"]  # a few minutes, then S3 refuses it
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((signed_at - datetime.now(UTC)).total_seconds()) < 60
    assert query["X-Amz-Signature"]

    download = requests.get(response["Location"])
    assert download.status_code == 200
    assert download.content == clips[".avi"].read_bytes()
    assert download.headers["Content-Disposition"] == (
        "attachment; filename*=utf-8''pel%C3%ADcula%20de%20Ana.avi"
    )
    assert download.headers["Content-Type"] == "application/octet-stream"


def test_a_missing_original_is_a_404_not_a_link_to_nothing(
    use_storages, s3, bucket, contest, clips, alice_api
):
    use_storages(s3_url=bucket)
    video = submit(contest, clips[".avi"])
    s3.delete_object(Bucket=bucket, Key=video.original.name)
    assert alice_api.get(f"/api/v1/videos/{video.id}/original").status_code == 404


def peak_memory(work) -> int:
    """The most memory Python held (every thread) while work ran, in bytes."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_big_files_go_up_in_parts_and_come_down_streaming(use_storages, s3, bucket, tmp_path):
    use_storages(s3_url=bucket)
    big = tmp_path / "big.avi"
    with open(big, "wb") as handle:
        for _ in range(64):
            handle.write(bytes(range(256)) * 4096)  # 1 MB
    upload = temporary_upload(big)
    originals = storages["originals"]
    originals.exists("originals/big.avi")  # load boto3's S3 model first: 10+ MB, once a process

    peak = peak_memory(lambda: originals.save("originals/big.avi", upload))
    # S3's ETag of a multipart upload ends in "-<parts>": 64 MB went up in 8 parts of 8 MB...
    assert s3.head_object(Bucket=bucket, Key="originals/big.avi")["ETag"].endswith('-8"')
    # ...read from the temporary file a few parts at a time, never the whole video at once.
    assert peak < 56 * MB, f"upload peak {peak / MB:.1f} MB"

    copy = tmp_path / "copy.avi"
    video = Video(original="originals/big.avi")
    peak = peak_memory(lambda: files.copy_to_path(video.original, copy))
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    # The worker's copy is written piece by piece (storage.open() would hold all 64 MB).
    assert peak < 12 * MB, f"download peak {peak / MB:.1f} MB"
