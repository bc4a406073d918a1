"""The contest page where the originals are kept in S3 (moto's server stands in for it): the
browser sends the video's parts to the bucket itself, and a cut upload goes on after a reload."""

import uuid

import boto3
import pytest

from tests.browser import test_in_chromium as chromium
from tests.browser.test_in_chromium import LINK, captions_of, start_entry, video_plays
from tests.e2e.service import Service, open_contest
from tests.media import make_noisy_clip

browser = chromium.browser  # Chromium, as the other browser tests have it

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3_service(moto_server, tmp_path_factory):
    """The service with its files in a bucket of moto's, whose CORS is the deployment's
    (deploy/aws: PUT from the site, ETag exposed)."""
    bucket = f"videoshare-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as env:
        for key, value in moto_server.env().items():
            env.setenv(key, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=bucket)
        # Public files readable by ACL, as on a bucket that uses ACLs (no CloudFront here).
        service = Service(
            tmp_path_factory.mktemp("s3-browser"), s3_url=bucket, s3_public_acl="public-read"
        )
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={"CORSRules": [{
                "AllowedMethods": ["PUT", "GET"], "AllowedOrigins": [service.url],
                "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600,
            }]},
        )  # fmt: skip
        service.start()
        try:
            yield service, s3, bucket
        finally:
            service.stop()


def part_number(url: str) -> int:
    return int(url.split("partNumber=")[1].split("&")[0])


def test_parts_go_to_s3_and_a_cut_upload_goes_on_after_a_reload(browser, s3_service, tmp_path):  # noqa: F811
    service, s3, bucket = s3_service
    open_contest(service.url, "cloud-shorts", "Cloud shorts")
    clip = make_noisy_clip(tmp_path / "long-take.avi", seconds=8, size="640x360")
    size = clip.stat().st_size
    parts = -(-size // (5 * 2**20))
    # The page sends four parts at once, and the next as one ends: at the cut (the first part
    # answered) at most five have begun, and those may still land after it. Parts enough that
    # some are surely left for after the reload.
    assert parts >= 8
    site = service.url

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    first = context.new_page()
    kept = []  # part numbers S3 answered 200 for
    first.on("response", lambda response: (
        response.request.method == "PUT" and response.status == 200
        and kept.append(part_number(response.url))))  # fmt: skip
    captions = tmp_path / "subtitulos.srt"
    captions.write_text("1\n00:00:00,200 --> 00:00:01,500\nHola\n")
    start_entry(first, service, "cloud-shorts", clip, "rae@example.com", 2_000_000, captions)
    # Playwright hands events over only while it waits: wait in the page, with a deadline.
    first.wait_for_event("response", lambda _response: bool(kept), timeout=90_000)
    first.close()  # the tab is closed mid-upload

    (upload,) = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    stored = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    held = {part["PartNumber"] for part in stored.get("Parts", [])}
    assert held and len(held) < parts

    second = context.new_page()
    problems, sent, listed = [], [], []
    second.on("requestfailed", lambda request: problems.append(request.url))
    second.on("pageerror", lambda error: problems.append(str(error)))
    second.on("console", lambda message: message.type == "error" and problems.append(message.text))
    second.on("request", lambda request: sent.append((request.method, request.url)))
    second.on("response", lambda response: (
        response.request.method == "GET" and response.url.endswith("/parts")
        and listed.append(response)))  # fmt: skip
    start_entry(second, service, "cloud-shorts", clip, "rae@example.com", 8_000_000, captions)
    second.wait_for_selector(".upload-result.ok", timeout=120_000)

    # It went on from the parts S3 held when the page asked (a part under way at the cut may
    # have landed since): those and no others were left out.
    resumed_from = {part["number"] for part in listed[-1].json()}
    assert held <= resumed_from and len(resumed_from) < parts
    # Every byte went to the bucket, never to the site; only the parts S3 lacked were sent.
    puts = [url for method, url in sent if method == "PUT" and "partNumber=" in url]
    assert puts and not [url for url in puts if url.startswith(site)]
    assert {part_number(url) for url in puts} == set(range(1, parts + 1)) - resumed_from
    assert not [url for method, url in sent if method == "POST" and url.endswith("/direct-uploads")]
    assert not problems
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")

    (message,) = service.wait_until(lambda: service.emails_to("rae@example.com"), 180, "email")
    assert "is ready" in message["Subject"]
    assert captions_of(service, "rae@example.com")[1] == "es"
    second.goto(LINK.search(message.get_body(("plain",)).get_content()).group(1))
    assert video_plays(second) > 0.5
