"""Hidden and deleted entries on S3 + CloudFront (moto's server): public links handed out
before stop working at once, CloudFront is told to forget them, the organizer still plays."""

import uuid
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from django.core.files import File
from django.core.files.base import ContentFile
from django.test import Client

from config import aws as aws_calls
from contests import services as contest_services
from contests.models import Contest
from tests.media import make_clip
from tests.web.helpers import ready_video
from videos import services
from videos.models import Video


@pytest.fixture(scope="module")
def moto_server():
    """A local AWS of this module's own: once a CloudFront distribution exists, moto's state
    dump (/moto-api/data.json, which the mail tests read) answers 500."""
    from tests.servers import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("hidden-s3") / "clip.mp4")


@pytest.fixture
def alice_client(alice) -> Client:
    """Alice's browser on the dashboard."""
    client = Client()
    client.force_login(alice)
    return client


def fetch(url: str, **headers) -> requests.Response:
    """GET over HTTP from the moto server, as a browser would follow the link."""
    return requests.get(url, headers=headers, timeout=30)


def unsigned(aws, bucket: str, key: str) -> str:
    return f"{aws.url}/{bucket}/{key}"


def stored_entry(contest, mp4, n=0) -> Video:
    """A ready entry whose MP4 and poster are in the bucket, as the worker stores them."""
    video = ready_video(contest, n)
    with open(mp4, "rb") as handle:
        video.converted.save(f"videos/{video.id}.mp4", File(handle), save=False)
    video.poster.save(f"posters/{video.id}.jpg", ContentFile(b"\xff\xd8 a poster"), save=False)
    video.save()
    return video


def keys(s3, bucket) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_a_public_link_works_before_hiding_and_fails_after(
    use_storages, aws, s3, bucket, contest, mp4, alice_api
):
    use_storages(s3_url=bucket, s3_public_acl="public-read")  # public by ACL, no CloudFront
    video = stored_entry(contest, mp4)
    mp4_url, poster_url = video.converted.url, video.poster.url
    assert mp4_url == unsigned(aws, bucket, f"videos/{video.id}.mp4")
    assert fetch(mp4_url).content == mp4.read_bytes()
    assert fetch(poster_url).status_code == 200

    answer = alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json")
    assert answer.status_code == 200

    assert fetch(mp4_url).status_code in (403, 404)
    assert fetch(mp4_url, Range="bytes=0-99").status_code in (403, 404)
    assert fetch(poster_url).status_code in (403, 404)
    assert keys(s3, bucket) == {f"hidden/videos/{video.id}.mp4", f"hidden/posters/{video.id}.jpg"}
    # Out of the public prefixes and without the public ACL: nobody reads it unsigned.
    assert fetch(unsigned(aws, bucket, f"hidden/videos/{video.id}.mp4")).status_code == 403
    head = s3.head_object(Bucket=bucket, Key=f"hidden/videos/{video.id}.mp4")
    assert (head["ContentType"], head["CacheControl"]) == ("video/mp4", "public, max-age=3600")


def test_the_organizer_plays_a_hidden_entry_through_a_signed_link(
    use_storages, aws, bucket, contest, mp4, alice_api, api
):
    use_storages(s3_url=bucket, cf_url="d111abcdef8", hidden_link_seconds="7200")
    video = stored_entry(contest, mp4)
    alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json")

    entries = alice_api.get("/api/v1/contests/summer-shorts/videos").json()["results"]
    link = urlparse(entries[0]["video_url"])
    # Straight from S3, signed, for longer than a viewing: the player asks for ranges all along.
    assert link.path == f"/{bucket}/hidden/videos/{video.id}.mp4"
    assert parse_qs(link.query)["X-Amz-Expires"] == ["7200"]
    assert fetch(entries[0]["video_url"]).content == mp4.read_bytes()
    ranged = fetch(entries[0]["video_url"], Range="bytes=100-199")
    assert ranged.status_code == 206 and ranged.content == mp4.read_bytes()[100:200]
    assert fetch(entries[0]["poster_url"]).content == b"\xff\xd8 a poster"
    assert api.get(f"/api/v1/videos/{video.id}").status_code == 404  # the public: nothing


def test_showing_it_again_restores_the_same_public_links(
    use_storages, aws, s3, bucket, contest, mp4, alice_api
):
    use_storages(s3_url=bucket, s3_public_acl="public-read")
    video = stored_entry(contest, mp4)
    mp4_url = video.converted.url
    alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json")
    assert fetch(mp4_url).status_code in (403, 404)
    shown = alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": False}, format="json")
    assert shown.json()["video_url"] == mp4_url
    assert fetch(mp4_url).content == mp4.read_bytes()  # the public ACL is back too
    assert keys(s3, bucket) == {f"videos/{video.id}.mp4", f"posters/{video.id}.jpg"}


def test_a_big_file_is_moved_in_parts_and_keeps_its_type(
    use_storages, s3, bucket, contest, mp4, monkeypatch
):
    use_storages(s3_url=bucket)
    MB = 1024 * 1024
    monkeypatch.setitem(aws_calls.COPY_CONFIG_OPTIONS, "multipart_threshold", 5 * MB)
    monkeypatch.setitem(aws_calls.COPY_CONFIG_OPTIONS, "multipart_chunksize", 5 * MB)
    video = stored_entry(contest, mp4)
    big = bytes(range(256)) * (12 * MB // 256)  # 12 MB: three parts of at most 5 MB
    s3.put_object(
        Bucket=bucket, Key=video.converted.name, Body=big, ContentType="video/mp4",
        CacheControl="public, max-age=3600",
    )  # fmt: skip

    services.video_set_hidden(video=video, hidden=True)
    head = s3.head_object(Bucket=bucket, Key=f"hidden/videos/{video.id}.mp4")
    assert head["ETag"].endswith('-3"')  # copied in 3 parts, server-side
    assert (head["ContentType"], head["CacheControl"]) == ("video/mp4", "public, max-age=3600")
    body = s3.get_object(Bucket=bucket, Key=f"hidden/videos/{video.id}.mp4")["Body"].read()
    assert body == big


def new_distribution(bucket: str) -> dict:
    """A CloudFront distribution in front of the bucket, made through moto's CloudFront API."""
    answer = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "videoshare test",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "bucket",
                        "DomainName": f"{bucket}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )
    return answer["Distribution"]


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    """The paths of every invalidation of the distribution, as moto's CloudFront API lists."""
    client = boto3.client("cloudfront")
    listed = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    return [
        sorted(
            client.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"][
                "InvalidationBatch"
            ]["Paths"]["Items"]
        )
        for item in listed.get("Items", [])
    ]


@pytest.mark.parametrize("by_id", [False, True], ids=["found-by-host", "cf_distribution_id"])
def test_cloudfront_is_told_to_forget_a_hidden_entry(
    use_storages, aws, bucket, contest, mp4, alice_client, by_id
):
    distribution = new_distribution(bucket)
    keys_ = {"cf_distribution_id": distribution["Id"]} if by_id else {}
    use_storages(s3_url=bucket, cf_url=distribution["DomainName"], **keys_)
    video = stored_entry(contest, mp4)
    assert video.converted.url == f"https://{distribution['DomainName']}/videos/{video.id}.mp4"
    assert invalidated_paths(distribution["Id"]) == []

    hidden = alice_client.post(f"/dashboard/videos/{video.id}/visibility", {"hidden": "1"})
    assert hidden.status_code == 302
    paths = [f"/posters/{video.id}.jpg", f"/videos/{video.id}.mp4"]
    assert invalidated_paths(distribution["Id"]) == [paths]
    # Showing it again also drops the "not found" CloudFront may have kept meanwhile.
    alice_client.post(f"/dashboard/videos/{video.id}/visibility", {"hidden": "0"})
    assert invalidated_paths(distribution["Id"]) == [paths, paths]


def test_a_missing_distribution_is_logged_and_the_entry_is_hidden_all_the_same(
    use_storages, aws, s3, bucket, contest, mp4, alice_api, caplog
):
    use_storages(s3_url=bucket, cf_url="dnosuchdistribution.cloudfront.net")
    video = stored_entry(contest, mp4)
    answer = alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json")
    assert answer.status_code == 200 and answer.json()["hidden"] is True
    assert keys(s3, bucket) == {f"hidden/videos/{video.id}.mp4", f"hidden/posters/{video.id}.jpg"}
    (failed,) = [r for r in caplog.records if getattr(r, "event", "") == "cdn_invalidation_failed"]
    assert "set cf_distribution_id" in failed.getMessage()


def test_deleting_a_contest_empties_its_keys_and_cloudfront_forgets_them(
    use_storages, aws, s3, bucket, contest, mp4, alice_api
):
    distribution = new_distribution(bucket)
    use_storages(s3_url=bucket, cf_url=distribution["DomainName"], s3_public_acl="public-read")
    contest.banner.save("banner.png", ContentFile(b"\x89PNG picture"))
    shown, hidden = stored_entry(contest, mp4, 0), stored_entry(contest, mp4, 1)
    alice_api.patch(f"/api/v1/videos/{hidden.id}", {"hidden": True}, format="json")
    Video.objects.filter(id=shown.id).update(original=f"originals/{shown.id}.avi")
    s3.put_object(Bucket=bucket, Key=f"originals/{shown.id}.avi", Body=b"the upload")
    banner_url = unsigned(aws, bucket, contest.banner.name)
    assert fetch(banner_url).status_code == 200
    assert len(keys(s3, bucket)) == 6

    assert alice_api.delete("/api/v1/contests/summer-shorts").status_code == 204
    assert keys(s3, bucket) == set()
    assert fetch(banner_url).status_code in (403, 404)
    assert invalidated_paths(distribution["Id"])[-1] == sorted(
        [f"/{contest.banner.name}", f"/videos/{shown.id}.mp4", f"/posters/{shown.id}.jpg"]
    )


def test_when_storage_refuses_to_delete_the_contest_stays(use_storages, bucket, contest, mp4):
    use_storages(s3_url=bucket)
    stored_entry(contest, mp4)
    use_storages(s3_url=f"{bucket}-gone")  # a bucket that does not exist: every delete fails
    with pytest.raises(Exception, match="NoSuchBucket"):
        contest_services.contest_delete(contest=contest)
    assert Contest.objects.filter(slug="summer-shorts").exists()
    assert Video.objects.filter(contest__slug="summer-shorts").count() == 1
