"""An entry's folder of media assets (videos.assets), with the real ffmpeg: thumbnails made with
the conversion, the HLS stream and storyboard made by their own job, and the folder following
the entry when it is hidden, shown or deleted."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from contests.services import contest_delete
from tests.media import make_clip
from tests.test_video_jobs import stored_video
from videos import assets, files, selectors, services
from videos.models import Video

Streams = Video.StreamsStatus


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # Taller than 360 lines, so the stream has its smaller rendition too.
    return make_clip(tmp_path_factory.mktemp("assets") / "clip.avi", seconds=3, size="854x480")


def converted(contest, clip) -> Video:
    video = stored_video(contest, clip)
    assert services.video_convert(video_id=video.id) is not None
    video.refresh_from_db()
    assert video.status == Video.Status.READY
    return video


def folder(video: Video) -> set[str]:
    _folders, names = default_storage.listdir(video.assets)
    return set(names)


def test_a_converted_entry_has_its_thumbnails_and_loudness_and_waits_for_its_stream(contest, clip):
    video = converted(contest, clip)
    assert video.assets == f"entries/{video.id}/"
    assert folder(video) == {"thumb-320.jpg", "thumb-640.jpg"}
    for width in assets.THUMBNAIL_WIDTHS:
        with default_storage.open(video.assets + assets.thumbnail_name(width)) as stored:
            assert Image.open(stored).size == (width, round(width * 480 / 854))
    assert video.loudness == pytest.approx(-22, abs=2)  # make_clip's tone, as it came
    assert video.streams_status == Streams.PENDING
    assert assets.stream_url(video) is None  # not until it is made
    assert selectors.backlog()["streams_pending"] == 1


def test_a_stream_job_gives_way_to_waiting_conversions_and_comes_back(contest, clip):
    video = converted(contest, clip)
    waiting = Video.objects.create(
        contest=contest, first_name="Bo", last_name="Lee", email="bo@example.com",
        original_name="b.avi", original_size=1, status=Video.Status.QUEUED,
    )  # fmt: skip
    assert services.streams_make_next() is False
    video.refresh_from_db()
    assert (video.streams_status, video.streams_attempts) == (Streams.PENDING, 0)
    assert folder(video) == {"thumb-320.jpg", "thumb-640.jpg"}

    # A conversion pausing before its retry (e.g. a full disk) does not hold streams back.
    Video.objects.filter(id=waiting.id).update(available_at=timezone.now() + timedelta(minutes=10))
    assert services.streams_make_next() is True
    video.refresh_from_db()
    assert (video.streams_status, video.streams_attempts) == (Streams.READY, 1)


def test_the_stream_thread_takes_the_entry_that_waited_longest(contest, clip):
    first, second = converted(contest, clip), converted(contest, clip)
    assert services.streams_make_next() is True
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.streams_status, second.streams_status) == (Streams.READY, Streams.PENDING)
    assert services.streams_make_next() is True
    assert services.streams_make_next() is False  # nothing left
    second.refresh_from_db()
    assert second.streams_status == Streams.READY


def test_stream_jobs_run_at_most_streams_at_once(contest, clip, settings):
    settings.STREAMS_AT_ONCE = 1
    video = converted(contest, clip)
    taken = services._streams_slot_take()  # another worker's running stream job
    assert services._streams_slot_take() is None
    assert services.video_make_streams(video_id=video.id) is False
    cache.delete(taken)
    assert services.video_make_streams(video_id=video.id) is True
    assert services._streams_slot_take() is not None  # the job gave its place back


def test_the_stream_job_makes_the_stream_and_storyboard_once(contest, clip):
    video = converted(contest, clip)
    assert services.video_make_streams(video_id=video.id) is True
    video.refresh_from_db()
    assert video.streams_status == Streams.READY and video.streams_attempts == 1
    made = folder(video)
    assert {assets.MASTER_PLAYLIST, assets.STORYBOARD_TRACK, assets.STORYBOARD_IMAGE} <= made
    with default_storage.open(video.assets + assets.MASTER_PLAYLIST) as stored:
        master = stored.read().decode()
    assert master.count("#EXT-X-STREAM-INF") == 2  # 480 lines as converted, and 360
    assert assets.stream_url(video) == f"/media/{video.assets}{assets.MASTER_PLAYLIST}"

    times = {name: default_storage.get_modified_time(video.assets + name) for name in made}
    assert services.video_make_streams(video_id=video.id) is False  # a second delivery
    assert {name: default_storage.get_modified_time(video.assets + name) for name in made} == times


def test_the_stream_of_a_hidden_entry_is_made_in_its_hidden_folder(contest, clip, client):
    video = converted(contest, clip)
    services.video_set_hidden(video=video, hidden=True)
    video.refresh_from_db()
    assert video.assets == f"hidden/entries/{video.id}/"
    assert services.video_make_streams(video_id=video.id) is True
    video.refresh_from_db()
    assert assets.MASTER_PLAYLIST in folder(video)
    assert not default_storage.exists(f"entries/{video.id}/{assets.MASTER_PLAYLIST}")
    assert assets.stream_url(video) is None and assets.thumbnail_urls(video) == {}
    hidden_url = f"/media/hidden/entries/{video.id}/{assets.MASTER_PLAYLIST}"
    assert client.get(hidden_url).status_code == 404


def test_hiding_moves_the_whole_folder_out_of_reach_and_showing_brings_it_back(
    contest, clip, client
):
    video = converted(contest, clip)
    services.video_make_streams(video_id=video.id)
    video.refresh_from_db()
    public = f"/media/entries/{video.id}/{assets.MASTER_PLAYLIST}"
    answer = client.get(public)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/vnd.apple.mpegurl"
    assert b"".join(answer.streaming_content).startswith(b"#EXTM3U")

    made = folder(video)
    services.video_set_hidden(video=video, hidden=True)
    assert client.get(public).status_code == 404
    assert not default_storage.exists(f"entries/{video.id}/thumb-320.jpg")
    video.refresh_from_db()
    assert folder(video) == made

    services.video_set_hidden(video=video, hidden=False)
    video.refresh_from_db()
    assert video.assets == f"entries/{video.id}/" and folder(video) == made
    assert client.get(public).status_code == 200


def test_a_broken_mp4_leaves_the_entry_on_its_mp4_with_the_streams_failed(contest, clip):
    video = converted(contest, clip)
    with default_storage.open(video.converted.name, "wb") as broken:
        broken.write(b"\x00\x00\x00\x18ftypisom" + bytes(4000))
    assert services.video_make_streams(video_id=video.id) is False
    video.refresh_from_db()
    assert video.status == Video.Status.READY
    assert video.streams_status == Streams.FAILED
    assert assets.stream_url(video) is None
    assert assets.thumbnail_urls(video)  # the gallery still has its thumbnails


def test_a_stream_job_being_made_is_not_taken_twice_and_a_dead_ones_is(contest, clip):
    video = converted(contest, clip)
    now = timezone.now()
    Video.objects.filter(id=video.id).update(streams_enqueued_at=now, streams_attempts=1)
    assert services.streams_make_next() is False  # another worker is making it
    assert services.video_make_streams(video_id=video.id) is False

    long_ago = now - timedelta(seconds=settings.STREAMS_RESEND_SECONDS + 1)
    Video.objects.filter(id=video.id).update(streams_enqueued_at=long_ago)
    assert services.streams_make_next() is True  # that worker died: made again
    video.refresh_from_db()
    assert (video.streams_status, video.streams_attempts) == (Streams.READY, 2)


def test_stream_jobs_are_given_up_after_a_few_attempts(contest, clip):
    video = converted(contest, clip)
    long_ago = timezone.now() - timedelta(days=1)
    Video.objects.filter(id=video.id).update(
        streams_attempts=services.STREAMS_MAX_ATTEMPTS, streams_enqueued_at=long_ago
    )
    assert services.streams_make_next() is False
    video.refresh_from_db()
    assert video.streams_status == Streams.FAILED
    assert assets.stream_url(video) is None and assets.thumbnail_urls(video)


def test_an_entry_converted_before_streams_gets_them_and_its_thumbnails(contest, clip):
    video = converted(contest, clip)
    for name in folder(video):
        default_storage.delete(video.assets + name)
    Video.objects.filter(id=video.id).update(assets="", streams_status=Streams.NONE)

    assert services.videos_streams_backfill() == 1
    assert services.video_make_streams(video_id=video.id) is True
    video.refresh_from_db()
    assert video.assets == f"entries/{video.id}/"
    assert {"thumb-320.jpg", "thumb-640.jpg", assets.MASTER_PLAYLIST} <= folder(video)


def test_deleting_the_contest_deletes_every_file_of_the_folder(contest, clip):
    video = converted(contest, clip)
    services.video_make_streams(video_id=video.id)
    video.refresh_from_db()
    assert folder(video)
    contest_delete(contest=contest)
    assert folder(video) == set()


def test_a_failed_conversion_leaves_no_folder_behind(contest, clips):
    video = stored_video(contest, clips["text"])
    services.video_convert(video_id=video.id)
    video.refresh_from_db()
    assert video.status == Video.Status.FAILED
    assert video.assets == ""
    assert files.folder_files(default_storage, f"entries/{video.id}/") == []


def test_the_organizer_sees_the_streams_state_and_the_loudness_it_came_with(
    contest, clip, alice_api, api
):
    video = converted(contest, clip)
    services.video_make_streams(video_id=video.id)
    (entry,) = alice_api.get(f"/api/v1/contests/{contest.slug}/videos").json()["results"]
    assert entry["streams_status"] == "ready"
    assert entry["loudness"] == pytest.approx(-22, abs=2)
    assert entry["stream_url"].endswith(f"/media/entries/{video.id}/master.m3u8")
    (public,) = api.get(f"/api/v1/contests/{contest.slug}/videos").json()["results"]
    assert "streams_status" not in public and "loudness" not in public


def test_an_unreadable_poster_leaves_the_gallery_on_the_poster_and_the_job_to_try_again(
    contest, clip
):
    video = converted(contest, clip)
    for name in folder(video):
        default_storage.delete(video.assets + name)
    Video.objects.filter(id=video.id).update(assets="", streams_status=Streams.NONE)
    with default_storage.open(video.poster.name, "wb") as poster:
        poster.write(b"not a picture")
    services.videos_streams_backfill()
    with pytest.raises(OSError):
        services.video_make_streams(video_id=video.id)
    video.refresh_from_db()
    assert video.assets == "" and video.streams_status == Streams.PENDING
    assert assets.thumbnail_urls(video) == {} and assets.stream_url(video) is None
