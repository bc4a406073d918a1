"""A hidden or deleted entry's files stop answering at once, through the served /media/ views:
links handed out before stop working; the organizer still plays a hidden entry."""

import io

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from contests.models import Contest
from tests.web.helpers import png_file, ready_video, video_with_original
from videos import services
from videos.models import Video


def jpeg() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(picture, "JPEG")
    return picture.getvalue()


def stored_entry(contest, mp4, n=0, **fields) -> Video:
    """A ready entry whose MP4 and poster are really in the public storage, as converted."""
    video = ready_video(contest, n, **fields)
    with open(mp4, "rb") as handle:
        video.converted.save(f"videos/{video.id}.mp4", File(handle), save=False)
    video.poster.save(f"posters/{video.id}.jpg", ContentFile(jpeg()), save=False)
    video.save()
    return video


@pytest.fixture
def entry(contest, mp4):
    video = stored_entry(contest, mp4)
    yield video
    video.refresh_from_db()
    for field in (video.converted, video.poster):
        default_storage.delete(field.name)


def hide(alice_client, video, hidden="1"):
    response = alice_client.post(f"/dashboard/videos/{video.id}/visibility", {"hidden": hidden})
    assert response.status_code == 302
    video.refresh_from_db()
    return video


def test_hiding_makes_the_links_handed_out_before_404_at_once(client, alice_client, entry, mp4):
    page, mp4_url, poster_url = entry.get_absolute_url(), entry.converted.url, entry.poster.url
    assert (mp4_url, poster_url) == (
        f"/media/videos/{entry.id}.mp4",
        f"/media/posters/{entry.id}.jpg",
    )
    assert client.get(mp4_url).getvalue() == mp4.read_bytes()
    assert client.get(poster_url).status_code == 200

    hide(alice_client, entry)

    assert client.get(page).status_code == 404
    assert client.get(mp4_url).status_code == 404
    assert client.get(mp4_url, headers={"Range": "bytes=0-99"}).status_code == 404
    assert client.get(poster_url).status_code == 404
    assert alice_client.get(mp4_url).status_code == 404  # the public name is gone for everyone
    assert not default_storage.exists(f"videos/{entry.id}.mp4")


def test_the_organizer_still_plays_a_hidden_entry_and_nobody_else_does(
    client, alice_client, bob_client, entry, mp4
):
    hide(alice_client, entry)
    assert entry.converted.url == f"/media/hidden/videos/{entry.id}.mp4"
    assert entry.poster.url == f"/media/hidden/posters/{entry.id}.jpg"
    dashboard = alice_client.get("/dashboard/contests/summer-shorts/").content.decode()
    assert f'href="{entry.converted.url}"' in dashboard
    assert f'src="{entry.poster.url}"' in dashboard

    played = alice_client.get(entry.converted.url)
    assert played.status_code == 200 and played.getvalue() == mp4.read_bytes()
    assert played["Content-Type"] == "video/mp4"
    assert played["Cache-Control"] == "private, no-cache"
    ranged = alice_client.get(entry.converted.url, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.getvalue() == mp4.read_bytes()[10:20]
    assert alice_client.get(entry.poster.url)["Content-Type"] == "image/jpeg"
    assert b"<video" in alice_client.get(entry.get_absolute_url()).content

    for stranger in (client, bob_client):
        assert stranger.get(entry.converted.url).status_code == 404
        assert stranger.get(entry.poster.url).status_code == 404


def test_showing_it_again_brings_the_same_links_back(client, alice_client, entry, mp4):
    mp4_url, poster_url = entry.converted.url, entry.poster.url
    hidden_url = hide(alice_client, entry).converted.url
    hide(alice_client, entry, "0")
    assert (entry.converted.url, entry.poster.url) == (mp4_url, poster_url)
    assert client.get(mp4_url).getvalue() == mp4.read_bytes()
    assert client.get(poster_url).status_code == 200
    assert client.get(entry.get_absolute_url()).status_code == 200
    assert alice_client.get(hidden_url).status_code == 404


def test_the_api_hides_the_files_as_the_dashboard_does(api, alice_api, entry):
    mp4_url = entry.converted.url
    answer = alice_api.patch(f"/api/v1/videos/{entry.id}", {"hidden": True}, format="json")
    assert answer.status_code == 200
    assert answer.json()["video_url"] == f"http://localhost:8080/media/hidden/videos/{entry.id}.mp4"
    assert api.get(mp4_url).status_code == 404
    assert (
        api.get(answer.json()["video_url"].removeprefix("http://localhost:8080")).status_code == 404
    )
    alice_api.patch(f"/api/v1/videos/{entry.id}", {"hidden": False}, format="json")
    assert api.get(mp4_url).status_code == 200


def test_a_path_through_a_public_folder_cannot_reach_hidden_files(client, alice_client, entry):
    hidden_path = hide(alice_client, entry).converted.name
    for path in (
        f"videos/../{hidden_path}",
        f"posters/./../{hidden_path}",
        f"videos//../{hidden_path}",
    ):
        assert client.get(f"/media/{path}").status_code == 404, path


def test_an_entry_hidden_while_it_converts_is_stored_out_of_sight(
    client, alice_client, contest, clips, django_capture_on_commit_callbacks
):
    video = video_with_original(contest, clips[".avi"])  # queued, not converted yet
    hide(alice_client, video)
    with django_capture_on_commit_callbacks(execute=True):
        services.video_convert(video_id=video.id)
    video.refresh_from_db()
    assert (video.status, video.hidden) == ("ready", True)
    assert video.converted.name == f"hidden/videos/{video.id}.mp4"
    assert video.poster.name == f"hidden/posters/{video.id}.jpg"
    assert client.get(f"/media/videos/{video.id}.mp4").status_code == 404
    assert client.get(f"/media/posters/{video.id}.jpg").status_code == 404
    assert alice_client.get(video.converted.url).status_code == 200
    default_storage.delete(video.converted.name)
    default_storage.delete(video.poster.name)


def test_entries_hidden_before_the_upgrade_are_moved_by_a_command(
    client, alice_client, contest, mp4
):
    legacy = stored_entry(contest, mp4, 0, hidden=True)  # hidden when hiding moved nothing
    shown = stored_entry(contest, mp4, 1)
    mp4_url = legacy.converted.url
    assert client.get(mp4_url).status_code == 200

    out = io.StringIO()
    call_command("move_hidden_files", stdout=out)
    assert out.getvalue().strip() == "moved: 1"
    legacy.refresh_from_db()
    shown.refresh_from_db()
    assert client.get(mp4_url).status_code == 404
    assert alice_client.get(legacy.converted.url).status_code == 200
    assert client.get(shown.converted.url).status_code == 200  # shown entries stay where they are
    call_command("move_hidden_files", stdout=out)
    assert out.getvalue().strip().endswith("moved: 0")
    for video in (legacy, shown):
        default_storage.delete(video.converted.name)
        default_storage.delete(video.poster.name)


# ---------------------------------------------------------------- deleting


def contest_with_files(contest, mp4, clips) -> dict[str, str]:
    """The contest's banner, a shown entry and a hidden one, all really stored: their URLs."""
    contest.banner.save("banner.png", png_file())
    shown = stored_entry(contest, mp4, 0)
    hidden = stored_entry(contest, mp4, 1)
    services.video_set_hidden(video=hidden, hidden=True)
    original = video_with_original(contest, clips[".avi"])
    return {
        "banner": contest.banner.url,
        "mp4": shown.converted.url,
        "poster": shown.poster.url,
        "hidden mp4": hidden.converted.url,
        "original": original.original.name,
    }


def assert_all_gone(client, alice_client, urls):
    for what, url in urls.items():
        if what == "original":
            assert not Video.original.field.storage.exists(url)
            continue
        assert client.get(url).status_code == 404, what
        assert alice_client.get(url).status_code == 404, what
        assert not default_storage.exists(url.removeprefix("/media/")), what


def test_deleting_a_contest_on_the_dashboard_removes_its_files_at_once(
    client, alice_client, contest, mp4, clips
):
    urls = contest_with_files(contest, mp4, clips)
    for what in ("banner", "mp4", "poster"):
        assert client.get(urls[what]).status_code == 200, what
    assert alice_client.get(urls["hidden mp4"]).status_code == 200

    response = alice_client.post("/dashboard/contests/summer-shorts/delete/")
    assert response.status_code == 302
    assert not Contest.objects.exists() and not Video.objects.exists()
    assert_all_gone(client, alice_client, urls)


def test_deleting_a_contest_through_the_api_removes_its_files_at_once(
    client, alice_client, alice_api, contest, mp4, clips
):
    urls = contest_with_files(contest, mp4, clips)
    assert alice_api.delete("/api/v1/contests/summer-shorts").status_code == 204
    assert not Video.objects.exists()
    assert_all_gone(client, alice_client, urls)
