"""Crashes and outages lose nothing: leases renewed by a heartbeat, emails claimed with an
expiry, messages that could not be sent are sent by the next sweep."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from tests.test_video_jobs import stored_video
from videos import selectors, services
from videos.mail import EmlFileBackend
from videos.models import Video


def test_a_claim_is_a_short_lease_not_the_time_limit(contest, clips, settings):
    settings.JOB_LEASE_SECONDS, settings.CONVERT_TIMEOUT = 60, 1800
    video = stored_video(contest, clips[".flv"])
    claimed = services._claim(video.id)
    assert claimed.claimed_until <= timezone.now() + timedelta(seconds=61)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_claim_while_the_work_runs(contest, clips, settings):
    settings.JOB_LEASE_SECONDS = 1  # a beat every quarter of a second
    video = stored_video(contest, clips[".flv"])
    claimed = services._claim(video.id)
    first_lease = claimed.claimed_until
    with services._heartbeat(claimed):
        time.sleep(1.5)  # longer than the lease: without beats it would have lapsed
        renewed = Video.objects.get(id=video.id).claimed_until
    assert renewed > first_lease + timedelta(seconds=0.5)
    assert renewed > timezone.now()


def test_a_lapsed_claim_of_a_dead_worker_is_sent_again_and_finished(contest, clips, settings):
    video = stored_video(contest, clips[".wmv"])
    services._claim(video.id)  # a worker took it, then died: no more beats
    Video.objects.filter(id=video.id).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.videos_requeue_stale()["requeued"] == 1
    assert services.video_convert_next(hint=video.id).status == "ready"


def test_a_message_for_a_job_a_live_worker_holds_comes_back_later(contest, clips, settings):
    video = stored_video(contest, clips[".flv"])
    services._claim(video.id)
    assert services.video_convert_next(hint=video.id) is None
    assert services.video_turn_later(video_id=video.id) == settings.JOB_LEASE_SECONDS
    Video.objects.filter(id=video.id).update(status="ready")
    assert services.video_turn_later(video_id=video.id) is None  # spent once it is done


def test_an_upload_whose_message_could_not_be_sent_goes_at_the_next_sweep(contest, clips, settings):
    video = stored_video(contest, clips[".avi"])
    # The embedded queue is a folder: a file in its place makes every send fail.
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
    folder.mkdir(parents=True, exist_ok=True)
    away = folder.with_name("messages-away")
    folder.rename(away)
    folder.write_text("the broker is down")
    try:
        services.video_enqueue(video_id=video.id)
    finally:
        folder.unlink()
        away.rename(folder)
    video.refresh_from_db()
    assert video.enqueued_at is None  # marked: no message is out for it
    assert services.videos_requeue_stale()["requeued"] == 1
    video.refresh_from_db()
    assert video.enqueued_at is not None
    assert services.videos_requeue_stale()["requeued"] == 0


def test_an_email_whose_sender_died_is_sent_once_after_its_claim_lapses(
    contest, clips, settings, mailoutbox
):
    video = stored_video(contest, clips[".avi"])
    services.video_convert(video_id=video.id)
    # A worker claimed the email and died before or while sending it.
    Video.objects.filter(id=video.id).update(
        notify_claimed_until=timezone.now() + timedelta(minutes=1), notify_attempts=1
    )
    assert services.participant_notify(video_id=video.id) is False  # still claimed
    Video.objects.filter(id=video.id).update(
        notify_claimed_until=timezone.now() - timedelta(seconds=1),
        finished_at=timezone.now() - timedelta(minutes=1),
    )
    assert services.videos_requeue_stale()["notified"] == 1  # sent by the sweep itself
    assert services.participant_notify(video_id=video.id) is False
    assert services.videos_requeue_stale()["notified"] == 0
    assert len(mailoutbox) == 1
    (sent,) = mailoutbox
    assert sent.extra_headers["Message-ID"] == f"<{video.id}.ready@localhost>"


def test_the_same_email_sent_twice_leaves_one_file(tmp_path: Path):
    backend = EmlFileBackend(file_path=tmp_path)
    for _ in range(2):
        message = EmailMessage("Ready", "Body", to=["ana@example.com"])
        message.extra_headers["Message-ID"] = "<abc.ready@videos.example.org>"
        backend.send_messages([message])
    assert [p.name for p in tmp_path.iterdir()] == ["abc.ready@videos.example.org.eml"]


def test_a_failure_on_our_side_waits_without_using_up_the_entrys_attempts(
    contest, clips, mailoutbox
):
    video = stored_video(contest, clips[".avi"])
    video.original.storage.delete(video.original.name)  # storage lost it: our problem
    for _ in range(5):  # more than convert_max_attempts
        with pytest.raises(services.TemporaryFailure) as setback:
            services.video_convert(video_id=video.id)
        assert setback.value.retry_after >= 30
        Video.objects.filter(id=video.id).update(available_at=None)  # the pause is over
    video.refresh_from_db()
    assert (video.status, video.attempts, video.failure_reason) == ("queued", 0, "")
    assert mailoutbox == []
    # The operator sees it, the participant does not.
    assert video.last_error
    assert selectors.backlog()["waiting_on_our_side"] == 1
    assert any(video.last_error in reason for reason in selectors.backlog_reasons())


def test_the_pause_after_a_failure_on_our_side_grows_to_an_hour(contest, clips, settings):
    settings.OUTAGE_PAUSE_SECONDS = 30
    video = stored_video(contest, clips[".avi"])
    video.original.storage.delete(video.original.name)
    pauses = []
    for hours in (0, 1, 12):
        Video.objects.filter(id=video.id).update(
            created_at=timezone.now() - timedelta(hours=hours), available_at=None
        )
        with pytest.raises(services.TemporaryFailure) as setback:
            services.video_convert(video_id=video.id)
        pauses.append(round(setback.value.retry_after))
    assert pauses == [30, 900, 3600]


def test_a_converted_entry_no_longer_shows_the_failure_it_waited_out(contest, clips):
    video = stored_video(contest, clips[".flv"])
    Video.objects.filter(id=video.id).update(last_error="No space left on device")
    assert services.video_convert(video_id=video.id).status == "ready"
    assert Video.objects.get(id=video.id).last_error == ""
    assert selectors.backlog()["waiting_on_our_side"] == 0


def test_after_a_day_of_failures_on_our_side_the_entry_ends_saying_so(contest, clips):
    video = stored_video(contest, clips[".avi"])
    video.original.storage.delete(video.original.name)
    Video.objects.filter(id=video.id).update(created_at=timezone.now() - timedelta(hours=25))
    assert services.video_convert(video_id=video.id).status == "failed"
    video.refresh_from_db()
    assert "our side" in video.failure_reason


def test_a_failed_attempt_leaves_no_partial_output_in_public_storage(contest, clips):
    from django.core.files.base import ContentFile

    video = stored_video(contest, clips["damaged"])
    storage = video.converted.storage
    storage.save(f"videos/{video.id}.mp4", ContentFile(b"half a video"))
    assert services.video_convert(video_id=video.id).status == "failed"
    assert not storage.exists(f"videos/{video.id}.mp4")
