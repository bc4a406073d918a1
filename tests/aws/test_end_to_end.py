"""The distributed setup through its front door: web and worker processes configured only by
the seed's secret in (moto's) Secrets Manager, files on S3 behind CloudFront, mail by SES."""

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import boto3
import pytest
import requests
from PIL import Image

from tests.aws.conftest import sent_through_ses
from tests.e2e.service import Service, organizer_session
from tests.media import make_clip

pytestmark = pytest.mark.e2e

CLOUDFRONT = "d7e2etest"


@pytest.fixture(scope="module")
def deployment(moto_server, tmp_path_factory):
    """AWS made as the seed's guide says (bucket, verified sender, secret), then the service."""
    with pytest.MonkeyPatch.context() as env:
        # boto3 in the processes and in this test talks to moto; Service passes os.environ on.
        for key, value in moto_server.env().items():
            env.setenv(key, value)
        bucket = f"videoshare-{uuid.uuid4().hex[:12]}"
        sender = f"videos-{uuid.uuid4().hex[:8]}@example.org"
        secret = f"videoshare/e2e/{uuid.uuid4().hex[:8]}"
        boto3.client("s3").create_bucket(Bucket=bucket)
        boto3.client("ses").verify_email_identity(EmailAddress=sender)
        boto3.client("secretsmanager").create_secret(
            Name=secret,
            SecretString=json.dumps(
                {"web_url": "", "s3_url": bucket, "cf_url": CLOUDFRONT, "ses_email": sender}
            ),
        )
        data_dir = tmp_path_factory.mktemp("aws-service")
        service = Service(data_dir, secret_name=secret, secret_region="us-east-1").start()
        try:
            yield service, bucket
        finally:
            service.stop()


def png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (64, 32), "orange").save(picture, "PNG")
    return picture.getvalue()


def test_an_avi_upload_becomes_an_mp4_on_s3_and_an_ses_email(deployment, moto_server, tmp_path):
    service, bucket = deployment
    organizer = organizer_session(service.url, lambda a: sent_through_ses(moto_server, a))
    now = datetime.now(UTC)
    contest = organizer.post(
        f"{service.url}/api/v1/contests",
        data={"name": "Cloud fest", "slug": "cloud-fest",
              "starts_at": (now - timedelta(hours=1)).isoformat(),
              "ends_at": (now + timedelta(days=1)).isoformat()},
        files={"banner": ("banner.png", png(), "image/png")},
    )  # fmt: skip
    assert contest.status_code == 201, contest.text
    assert contest.json()["banner_url"].startswith(f"https://{CLOUDFRONT}.cloudfront.net/banners/")

    clip = make_clip(tmp_path / "entry.avi", seconds=2)
    with open(clip, "rb") as handle:
        answer = requests.post(
            f"{service.url}/api/v1/contests/cloud-fest/videos",
            data={"first_name": "Pat", "last_name": "Cloud", "email": "pat@example.com"},
            files={"file": ("entry.avi", handle)},
            timeout=60,
        )
    assert answer.status_code == 202, answer.text
    video_id = answer.json()["id"]

    def ready():
        entry = organizer.get(f"{service.url}/api/v1/videos/{video_id}").json()
        assert entry["status"] != "failed", entry
        return entry if entry["status"] == "ready" else None

    entry = service.wait_until(ready, 120, "the video to be ready")
    assert entry["video_url"] == f"https://{CLOUDFRONT}.cloudfront.net/videos/{video_id}.mp4"
    assert entry["poster_url"] == f"https://{CLOUDFRONT}.cloudfront.net/posters/{video_id}.jpg"

    s3 = boto3.client("s3")
    stored = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"originals/{video_id}.avi", f"videos/{video_id}.mp4", f"posters/{video_id}.jpg"} <= (
        stored
    )
    assert any(key.startswith("banners/cloud-fest-") for key in stored)
    mp4 = s3.get_object(Bucket=bucket, Key=f"videos/{video_id}.mp4")
    assert mp4["ContentType"] == "video/mp4" and mp4["Body"].read(12)[4:8] == b"ftyp"

    (message,) = service.wait_until(
        lambda: sent_through_ses(moto_server, "pat@example.com"), 60, "the SES email"
    )
    assert "is ready" in message["Subject"]
    assert (
        f"{service.url}/cloud-fest/videos/{video_id}/" in message.get_body(("plain",)).get_content()
    )

    link = organizer.get(f"{service.url}/api/v1/videos/{video_id}/original", allow_redirects=False)
    assert link.status_code == 302
    assert urlparse(link.headers["Location"]).path == f"/{bucket}/originals/{video_id}.avi"
    assert requests.get(link.headers["Location"]).content == clip.read_bytes()

    # Nothing was kept on the machines' disks: every file went through the storages.
    media = service.data_dir / "media"
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))
