"""The entry form on a contest's page: a participant uploads a video."""

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.web.helpers import entry_form
from videos.models import Video


def test_it_accepts_a_real_avi_and_promises_an_email(client, contest, clips):
    response = client.post("/summer-shorts/", entry_form(clips[".avi"]))
    assertRedirects(response, "/summer-shorts/", fetch_redirect_response=False)
    page = client.get("/summer-shorts/")
    assertContains(page, "We received your video. We will email you as soon as it is ready.")


def test_an_accepted_entry_is_queued(client, contest, clips):
    client.post("/summer-shorts/", entry_form(clips[".avi"], message="For the jury"))
    video = Video.objects.get()
    assert (video.contest, video.status) == (contest, Video.Status.QUEUED)
    assert (video.first_name, video.last_name, video.email) == ("Ana", "Diaz", "ana@example.com")
    assert (video.message, video.original_name) == ("For the jury", "clip.avi")
    assert video.original.read() == clips[".avi"].read_bytes()


def test_it_rejects_a_text_file_named_like_a_video(client, contest, clips):
    response = client.post("/summer-shorts/", entry_form(clips["text"]))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["file"]
    assertContains(response, 'id="id_file_error"')
    assert not Video.objects.exists()


def test_it_rejects_an_entry_without_a_name(client, contest, clips):
    response = client.post("/summer-shorts/", entry_form(clips[".avi"], first_name=""))
    assert list(response.context["form"].errors) == ["first_name"]
    assertContains(response, 'id="id_first_name_error"')
    assert not Video.objects.exists()


def test_before_the_start_the_page_says_when_it_opens(client, contest):
    contest.starts_at = timezone.now() + timedelta(days=1)
    contest.save()
    response = client.get("/summer-shorts/")
    assertContains(response, "This contest opens on")
    assertNotContains(response, '<form method="post" enctype')


def test_it_refuses_an_entry_before_the_start(client, contest, clips):
    contest.starts_at = timezone.now() + timedelta(days=1)
    contest.save()
    response = client.post("/summer-shorts/", entry_form(clips[".avi"]))
    assertContains(
        response, f"This contest opens on {date_format(contest.starts_at, 'DATETIME_FORMAT')} UTC."
    )
    assert not Video.objects.exists()


def test_after_the_end_the_page_says_it_is_closed(client, contest):
    contest.ends_at = timezone.now() - timedelta(minutes=1)
    contest.save()
    response = client.get("/summer-shorts/")
    assertContains(response, "This contest is closed for entries.")
    assertNotContains(response, '<form method="post" enctype')


def test_it_refuses_an_entry_after_the_end(client, contest, clips):
    contest.ends_at = timezone.now() - timedelta(minutes=1)
    contest.save()
    response = client.post("/summer-shorts/", entry_form(clips[".avi"]))
    assertContains(
        response, f"This contest closed on {date_format(contest.ends_at, 'DATETIME_FORMAT')} UTC."
    )
    assert not Video.objects.exists()


def test_the_page_sends_large_files_in_pieces_and_loads_that_code_only_then(client, contest):
    page = client.get("/summer-shorts/").content.decode()
    assert 'data-resumable-url="/api/v1/contests/summer-shorts/uploads"' in page
    assert 'data-check-url="/api/v1/contests/summer-shorts/videos/check"' in page
    assert 'data-tus-src="/static/vendor/tus-js-client-4.3.1/tus.min.' in page
    assert '<script src="/static/vendor/tus-js-client' not in page  # loaded when one begins


def test_with_files_in_s3_the_page_sends_them_whole(client, contest, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {"BACKEND": "storages.backends.s3.S3Storage",
                      "OPTIONS": {"bucket_name": "videos"}},
    }  # fmt: skip
    page = client.get("/summer-shorts/").content.decode()
    assert "data-resumable-url" not in page
