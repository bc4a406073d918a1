from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import transcoding
from tests.media import entry_fields as entry
from tests.web.helpers import ready_video
from videos.models import Video


def queue_messages(settings) -> list[Path]:
    return list(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).glob("*.msg"))


def test_an_upload_is_queued_and_sent_to_the_worker(
    api, contest, clips, settings, django_capture_on_commit_callbacks
):
    before = len(queue_messages(settings))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".flv"]))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert "email" not in body
    video = Video.objects.get(id=body["id"])
    assert video.original_format == "flv"
    assert video.original.storage.exists(video.original.name)
    assert len(queue_messages(settings)) == before + 1  # a real message in the folder broker


@pytest.mark.parametrize("suffix", [".wmv", ".avi"])
def test_it_accepts_wmv_and_avi(api, contest, clips, suffix):
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[suffix]))
    assert response.status_code == 202


def test_a_file_named_like_a_video_but_not_one_is_refused(api, contest, clips):
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips["text"]))
    assert response.status_code == 415
    assert response.json()["errors"]["file"]
    assert not Video.objects.exists()


def test_a_file_cut_short_is_refused_as_incomplete(api, contest, clips, tmp_path):
    whole = clips[".avi"].read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole[: len(whole) * 2 // 3])  # an upload or a copy that stopped
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(cut))
    assert response.status_code == 422, response.json()
    assert response.json()["errors"]["file"] == [transcoding.TRUNCATED]
    spanish = api.post(
        f"/api/v1/contests/{contest.slug}/videos", entry(cut), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert spanish.json()["errors"]["file"][0].startswith("El archivo está incompleto")
    assert not Video.objects.exists()


def test_missing_fields_are_named(api, contest, clips):
    response = api.post(
        f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"], email="nope")
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", {"first_name": "A"})
    assert response.status_code == 400


def test_uploads_outside_the_contest_dates_are_refused(api, contest, clips):
    contest.starts_at = timezone.now() + timedelta(days=1)
    contest.save()
    early = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"]))
    assert early.status_code == 409
    assert "opens on" in early.json()["detail"]
    contest.starts_at, contest.ends_at = (
        timezone.now() - timedelta(days=9),
        timezone.now() - timedelta(days=1),
    )
    contest.save()
    late = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"]))
    assert late.status_code == 409
    assert "closed" in late.json()["detail"]
    assert not Video.objects.exists()


def test_a_too_large_file_is_refused(api, contest, clips, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"]))
    assert response.status_code == 413
    assert not Video.objects.exists()


def test_an_unknown_contest_is_404(api, db, clips):
    assert api.post("/api/v1/contests/nope/videos", entry(clips[".avi"])).status_code == 404


def test_the_public_list_has_ready_shown_videos_newest_first_without_emails(api, contest):
    old = ready_video(contest, 1)
    new = ready_video(contest, 2)
    ready_video(contest, 3, hidden=True)
    ready_video(contest, 4, status=Video.Status.QUEUED, converted="", poster="")
    ready_video(contest, 5, status=Video.Status.FAILED, failure_reason="broken")
    Video.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(hours=1))
    response = api.get(f"/api/v1/contests/{contest.slug}/videos")
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(new.id), str(old.id)]
    first = body["results"][0]
    assert first["video_url"] == "http://localhost:8080/media/videos/x2.mp4"
    assert first["poster_url"].endswith("/media/posters/x2.jpg")
    assert set(first) >= {
        "participant_name",
        "message",
        "duration",
        "width",
        "height",
        "created_at",
    }
    assert "@example.com" not in response.content.decode()


def test_the_public_list_pages_by_50(api, contest):
    for n in range(51):
        ready_video(contest, n)
    first = api.get(f"/api/v1/contests/{contest.slug}/videos").json()
    assert first["count"] == 51 and len(first["results"]) == 50
    assert first["previous"] is None and "page=2" in first["next"]
    second = api.get(f"/api/v1/contests/{contest.slug}/videos?page=2").json()
    assert len(second["results"]) == 1 and second["next"] is None


def test_the_owner_sees_every_entry_with_its_state(alice_api, bob_api, contest):
    ready_video(contest, 1)
    ready_video(contest, 2, status=Video.Status.FAILED, failure_reason="The file is damaged.")
    body = alice_api.get(f"/api/v1/contests/{contest.slug}/videos").json()
    assert body["count"] == 2
    assert {item["status"] for item in body["results"]} == {"ready", "failed"}
    assert {item["email"] for item in body["results"]} == {"p1@example.com", "p2@example.com"}
    assert all(item["original_url"].endswith("/original") for item in body["results"])
    failed = alice_api.get(f"/api/v1/contests/{contest.slug}/videos?status=failed").json()
    assert [item["failure_reason"] for item in failed["results"]] == ["The file is damaged."]
    # Another organizer gets the public view only.
    other = bob_api.get(f"/api/v1/contests/{contest.slug}/videos").json()
    assert other["count"] == 1 and "email" not in other["results"][0]


def test_a_video_is_public_only_when_ready_and_shown(api, alice_api, contest):
    shown = ready_video(contest, 1)
    hidden = ready_video(contest, 2, hidden=True)
    queued = ready_video(contest, 3, status=Video.Status.QUEUED)
    assert api.get(f"/api/v1/videos/{shown.id}").status_code == 200
    assert "email" not in api.get(f"/api/v1/videos/{shown.id}").json()
    assert api.get(f"/api/v1/videos/{hidden.id}").status_code == 404
    assert api.get(f"/api/v1/videos/{queued.id}").status_code == 404
    assert api.get("/api/v1/videos/not-a-uuid").status_code == 404
    assert alice_api.get(f"/api/v1/videos/{hidden.id}").json()["hidden"] is True


def test_only_the_owner_hides_and_shows(api, alice_api, bob_api, contest):
    video = ready_video(contest, 1)
    assert (
        bob_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json").status_code
        == 404
    )
    assert (
        api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json").status_code == 404
    )
    response = alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": True}, format="json")
    assert response.status_code == 200 and response.json()["hidden"] is True
    assert api.get(f"/api/v1/contests/{contest.slug}/videos").json()["count"] == 0
    alice_api.patch(f"/api/v1/videos/{video.id}", {"hidden": False}, format="json")
    assert api.get(f"/api/v1/contests/{contest.slug}/videos").json()["count"] == 1


def test_only_the_owner_downloads_the_original(api, alice_api, bob_api, contest, clips):
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".wmv"]))
    video_id = response.json()["id"]
    download = alice_api.get(f"/api/v1/videos/{video_id}/original")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == clips[".wmv"].read_bytes()
    assert "attachment" in download["Content-Disposition"]
    assert bob_api.get(f"/api/v1/videos/{video_id}/original").status_code == 404
    assert api.get(f"/api/v1/videos/{video_id}/original").status_code == 404
