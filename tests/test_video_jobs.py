"""The worker's services, with the real ffmpeg: convert, notify, retry, recover."""

import random
import smtplib
import subprocess
from datetime import timedelta

import pytest
from django.core.files import File
from django.utils import timezone

import transcoding
from contests.models import Contest
from tests.media import make_clip, require_ffprobe
from videos import selectors, services
from videos.models import Video, mailbox_key


def stored_video(contest, path, email="ana@example.com", **fields) -> Video:
    """An entry as video_submit leaves it: original in storage, row queued."""
    with open(path, "rb") as handle:
        video = Video(contest=contest, first_name="Ana", last_name="Diaz", email=email,
                      email_key=mailbox_key(email), original_name=path.name,
                      enqueued_at=timezone.now(), **fields)  # fmt: skip
        video.original.save(f"originals/{video.id}{path.suffix}", File(handle), save=False)
    video.save()
    return video


@pytest.fixture
def submit(contest):
    return lambda path, email="ana@example.com": stored_video(contest, path, email)


def probe_with_ffprobe_or_av(path):
    import transcoding

    return transcoding.probe(path)


@pytest.mark.parametrize("suffix", [".flv", ".wmv", ".avi"])
def test_it_converts_an_upload_to_a_browser_mp4_and_a_poster(submit, clips, suffix):
    video = submit(clips[suffix])
    assert services.video_convert(video_id=video.id) is not None
    video.refresh_from_db()
    assert video.status == "ready"
    assert video.converted.name == f"videos/{video.id}.mp4"
    assert video.poster.name == f"posters/{video.id}.jpg"
    assert (video.width, video.height) == (320, 240)
    assert video.duration == pytest.approx(1.0, abs=0.2)
    info = probe_with_ffprobe_or_av(video.converted.path)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.audio.codec == "aac"
    assert video.poster.open("rb").read(2) == b"\xff\xd8"
    assert video.claimed_until is None and video.attempts == 1


def test_a_second_delivery_does_nothing(submit, clips, mailoutbox):
    video = submit(clips[".avi"])
    services.video_convert(video_id=video.id)
    video.refresh_from_db()
    converted_mtime = video.converted.storage.get_modified_time(video.converted.name)
    assert services.participant_notify(video_id=video.id) is True

    assert services.video_convert(video_id=video.id) is None
    assert services.participant_notify(video_id=video.id) is False
    video.refresh_from_db()
    assert video.attempts == 1
    assert video.converted.storage.get_modified_time(video.converted.name) == converted_mtime
    assert len(mailoutbox) == 1


def test_the_ready_email_links_to_the_video_on_the_contest_page(submit, clips, mailoutbox):
    video = submit(clips[".flv"], email="ana@example.com")
    services.video_convert(video_id=video.id)
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    assert email.to == ["ana@example.com"]
    assert "is ready" in email.subject
    assert f"http://localhost:8080/summer-shorts/videos/{video.id}/" in email.body


def test_a_broken_file_fails_with_a_reason_and_an_email(submit, clips, mailoutbox):
    video = submit(clips["damaged"])
    result = services.video_convert(video_id=video.id)
    assert result.status == "failed"
    video.refresh_from_db()
    assert video.status == "failed"
    assert video.failure_reason and "ffmpeg" not in video.failure_reason.lower()
    assert not video.converted
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    assert "could not convert" in email.subject
    assert video.failure_reason in email.body


def test_noise_after_a_valid_header_is_never_published(submit, mailoutbox, client, tmp_path):
    """The upload check passes (the header is whole); the conversion makes a fraction of a
    second of the five the file announces: the entry fails, and the participant is told."""
    data = make_clip(tmp_path / "whole.avi", seconds=5).read_bytes()
    noisy = tmp_path / "noisy.avi"
    noisy.write_bytes(data[:12_000] + random.Random(5).randbytes(len(data) - 12_000))
    video = submit(noisy)
    result = services.video_convert(video_id=video.id)
    assert result.status == "failed"
    assert result.failure_reason == transcoding.run.DAMAGED
    assert not result.converted and not result.poster
    assert client.get(f"/{video.contest.slug}/videos/{video.id}/").status_code == 404
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    assert transcoding.run.DAMAGED in email.body


def test_a_timeout_is_retried_once_then_ends_as_failed(submit, clips, settings):
    settings.CONVERT_TIMEOUT = 0.001  # the ceiling of every conversion's time limit
    video = submit(clips[".avi"])
    with pytest.raises(services.TemporaryFailure) as failure:
        services.video_convert(video_id=video.id)
    assert failure.value.retry_after > 0
    video.refresh_from_db()
    assert (video.status, video.attempts, video.timeouts) == ("queued", 1, 1)
    assert video.available_at > timezone.now()  # a pause before the next try
    assert services.video_convert(video_id=video.id) is None  # not before the pause ends
    Video.objects.filter(id=video.id).update(available_at=timezone.now())
    result = services.video_convert(video_id=video.id)
    assert result.status == "failed"
    video.refresh_from_db()
    # Twice too slow is the input's doing: no third try, and the participant is told.
    assert (video.status, video.attempts, video.timeouts) == ("failed", 2, 2)
    assert "took too long" in video.failure_reason
    assert services.video_convert(video_id=video.id) is None


def test_the_time_limit_grows_with_the_inputs_duration(settings):
    settings.CONVERT_TIMEOUT_BASE, settings.CONVERT_TIMEOUT_PER_SECOND = 60, 4
    settings.CONVERT_TIMEOUT = 1800
    budget = services.conversion_budget()
    assert budget.timeout_for(10) == 100
    assert budget.timeout_for(120) == 540
    assert budget.timeout_for(3600) == 1800  # never above convert_timeout


def test_a_job_held_by_a_live_worker_is_not_taken(submit, clips):
    video = submit(clips[".avi"])
    Video.objects.filter(id=video.id).update(
        status="processing", attempts=1, claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert services.video_convert(video_id=video.id) is None
    video.refresh_from_db()
    assert video.status == "processing"


def test_a_job_of_a_dead_worker_is_requeued_and_completed(submit, clips, settings):
    video = submit(clips[".wmv"])
    # A worker claimed it, then died: its claim ran out.
    Video.objects.filter(id=video.id).update(
        status="processing", attempts=1, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    counts = services.videos_requeue_stale()
    assert counts["requeued"] == 1
    services.video_convert(video_id=video.id)
    video.refresh_from_db()
    assert (video.status, video.attempts) == ("ready", 2)


def test_a_job_that_keeps_dying_ends_as_failed(submit, clips, settings, mailoutbox):
    video = submit(clips[".wmv"])
    Video.objects.filter(id=video.id).update(
        status="processing",
        attempts=settings.CONVERT_MAX_ATTEMPTS,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert services.videos_requeue_stale()["failed"] == 1
    video.refresh_from_db()
    assert video.status == "failed" and "stopped" in video.failure_reason


def test_a_queued_video_whose_message_was_lost_is_sent_again(submit, clips, settings):
    video = submit(clips[".avi"])
    Video.objects.filter(id=video.id).update(enqueued_at=timezone.now() - timedelta(hours=2))
    assert services.videos_requeue_stale()["requeued"] == 1
    video.refresh_from_db()
    assert video.enqueued_at > timezone.now() - timedelta(minutes=1)
    assert services.videos_requeue_stale()["requeued"] == 0


def test_a_failed_email_is_sent_by_a_try_after_its_pause(submit, clips, settings, mailoutbox):
    video = submit(clips[".avi"])
    services.video_convert(video_id=video.id)
    settings.EMAIL_BACKEND = "tests.test_video_jobs.BrokenMailBackend"
    with pytest.raises(ConnectionError):
        services.participant_notify(video_id=video.id)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.participant_notify(video_id=video.id) is False  # pausing
    Video.objects.filter(id=video.id).update(notify_claimed_until=timezone.now())
    assert services.participant_notify(video_id=video.id) is True
    assert len(mailoutbox) == 1


class BrokenMailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("mail server down")


class RefusingMailBackend(BrokenMailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})


def test_an_email_refused_for_good_is_never_tried_again(submit, clips, settings, mailoutbox):
    video = submit(clips[".avi"])
    services.video_convert(video_id=video.id)
    settings.EMAIL_BACKEND = "tests.test_video_jobs.RefusingMailBackend"
    assert services.participant_notify(video_id=video.id) is False
    video.refresh_from_db()
    assert "No such user" in video.notify_error and video.notified_at is not None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.participant_notify(video_id=video.id) is False
    Video.objects.filter(id=video.id).update(finished_at=timezone.now() - timedelta(hours=1))
    assert services.videos_requeue_stale()["notified"] == 0
    assert mailoutbox == []


def test_a_contest_name_with_a_line_break_cannot_break_its_emails(contest, clips, mailoutbox):
    # The name is refused at the door (tests/test_api_contests.py); a row written around the
    # checks still ends with one refused email, not retries forever.
    Contest.objects.filter(id=contest.id).update(name="Summer\r\nBcc: victim@example.com")
    video = stored_video(Contest.objects.get(id=contest.id), clips[".avi"])
    services.video_convert(video_id=video.id)
    assert services.participant_notify(video_id=video.id) is False
    video.refresh_from_db()
    assert video.notify_error.startswith("refused")
    assert services.participant_notify(video_id=video.id) is False
    assert mailoutbox == []


def test_a_mail_outage_is_waited_out_with_pauses_that_double(submit, clips, settings, mailoutbox):
    settings.OUTAGE_PAUSE_SECONDS = 30
    video = submit(clips[".avi"])
    services.video_convert(video_id=video.id)
    settings.EMAIL_BACKEND = "tests.test_video_jobs.BrokenMailBackend"
    pauses = []
    for _ in range(15):  # more tries than a short outage needs: never given up for that
        Video.objects.filter(id=video.id).update(notify_claimed_until=None)
        before = timezone.now()
        with pytest.raises(ConnectionError):
            services.participant_notify(video_id=video.id)
        video.refresh_from_db()
        pauses.append(round((video.notify_claimed_until - before).total_seconds()))
    assert pauses[:4] == [30, 60, 120, 240] and pauses[-1] == 3600
    assert (video.notified_at, video.notify_error) == (None, "")
    assert "mail server down" in video.notify_last_error
    assert selectors.backlog()["emails_waiting_on_mail"] == 1
    assert services.participant_notify(video_id=video.id) is False  # still in its pause

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    Video.objects.filter(id=video.id).update(
        notify_claimed_until=timezone.now() - timedelta(seconds=1),
        finished_at=timezone.now() - timedelta(hours=1),
    )
    assert services.videos_requeue_stale()["notified"] == 1
    video.refresh_from_db()
    assert video.notified_at is not None and video.notify_last_error == ""
    assert len(mailoutbox) == 1


def test_an_email_is_given_up_only_after_five_days_of_failures(submit, clips, settings):
    video = submit(clips[".avi"])
    services.video_convert(video_id=video.id)
    settings.EMAIL_BACKEND = "tests.test_video_jobs.BrokenMailBackend"
    Video.objects.filter(id=video.id).update(
        finished_at=timezone.now() - timedelta(days=5, hours=1)
    )
    with pytest.raises(ConnectionError):
        services.participant_notify(video_id=video.id)
    video.refresh_from_db()
    assert "gave up" in video.notify_error
    assert services.participant_notify(video_id=video.id) is False
    assert services.videos_requeue_stale()["notified"] == 0


def test_the_sweep_stops_sending_at_the_first_failure(contest, clips, settings):
    settings.EMAIL_BACKEND = "tests.test_video_jobs.BrokenMailBackend"
    videos = [stored_video(contest, clips[".flv"], email=f"p{n}@example.com") for n in range(3)]
    Video.objects.filter(id__in=[v.id for v in videos]).update(
        status="ready", finished_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.videos_requeue_stale()["notified"] == 0
    tried = Video.objects.filter(id__in=[v.id for v in videos], notify_attempts=1).count()
    assert tried == 1  # one probe of the mail server per sweep, not one timeout per email


def test_one_address_gets_at_most_the_daily_number_of_emails(contest, clips, settings, mailoutbox):
    settings.EMAILS_PER_RECIPIENT_DAY = 2
    videos = [stored_video(contest, clips[".flv"], email=f"ana+{n}@example.com") for n in range(3)]
    Video.objects.filter(id__in=[v.id for v in videos]).update(
        status="ready", finished_at=timezone.now(), email_key="ana@example.com"
    )
    sent = [services.participant_notify(video_id=v.id) for v in videos]
    assert sent == [True, True, False]
    assert len(mailoutbox) == 2
    assert "daily email limit" in Video.objects.get(id=videos[2].id).notify_error


def test_ffprobe_agrees_when_installed(submit, clips):
    ffprobe = require_ffprobe()
    video = submit(clips[".flv"])
    services.video_convert(video_id=video.id)
    video.refresh_from_db()
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "stream=codec_name,pix_fmt", "-of", "csv=p=0",
         video.converted.path],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "h264,yuv420p" in out and "aac" in out
