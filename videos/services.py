"""Entries: submit an upload, convert it, tell the participant. Called by pages, API and tasks."""

import logging
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

import transcoding
from contests.models import Contest
from videos import files, reasons
from videos.models import Video

logger = logging.getLogger(__name__)
Status = Video.Status


class SubmissionRejected(Exception):
    """An upload we refuse; `code` says why (closed, too_large, not_video, invalid)."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class TemporaryFailure(Exception):
    """The conversion should be tried again later."""


# ---------------------------------------------------------------- submit


def video_submit(
    *,
    contest: Contest,
    first_name: str,
    last_name: str,
    email: str,
    message: str,
    upload: UploadedFile | None,
) -> Video:
    """Check an entry, store the original and queue its conversion."""
    now = timezone.now()
    if now < contest.starts_at:
        raise SubmissionRejected(
            "closed", _("This contest opens on %(date)s UTC.") % {"date": _when(contest.starts_at)}
        )
    if now >= contest.ends_at:
        raise SubmissionRejected(
            "closed", _("This contest closed on %(date)s UTC.") % {"date": _when(contest.ends_at)}
        )
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, message = (email or "").strip(), (message or "").strip()
    _check_fields(first_name=first_name, last_name=last_name, email=email, message=message)
    if not upload:
        raise SubmissionRejected("invalid", _("Choose a video file to upload."), "file")
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise SubmissionRejected("too_large", too_large_message(), "file")
    info = _probe_upload(upload)

    video = Video(
        contest=contest,
        first_name=first_name,
        last_name=last_name,
        email=email,
        message=message,
        original_name=Path(upload.name or "video").name[:255],
        original_size=upload.size,
        original_format=info.format_name[:100],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        enqueued_at=now,
    )
    upload.seek(0)
    video.original.save(_original_key(video), upload, save=False)
    video.save()
    transaction.on_commit(lambda: video_enqueue(video_id=video.id))
    logger.info(
        "upload received: video %s for %s, %s bytes",
        video.id,
        contest.slug,
        upload.size,
        extra={
            "event": "upload_received",
            "video_id": str(video.id),
            "contest": contest.slug,
            "size": upload.size,
            "format": info.format_name,
        },
    )
    return video


def _when(moment) -> str:
    return formats.date_format(moment, "DATETIME_FORMAT")


def _check_fields(*, first_name: str, last_name: str, email: str, message: str) -> None:
    if not first_name:
        raise SubmissionRejected("invalid", _("Enter your first name."), "first_name")
    if not last_name:
        raise SubmissionRejected("invalid", _("Enter your last name."), "last_name")
    if len(first_name) > 100 or len(last_name) > 100:
        raise SubmissionRejected(
            "invalid", _("Names can have at most 100 characters."), "first_name"
        )
    try:
        validate_email(email)
    except ValidationError:
        raise SubmissionRejected("invalid", _("Enter a valid email address."), "email") from None
    if len(message) > 2000:
        raise SubmissionRejected(
            "invalid", _("The message can have at most 2000 characters."), "message"
        )


def _probe_upload(upload: UploadedFile) -> transcoding.MediaInfo:
    """The light check in the request: the file must hold a video stream."""
    if hasattr(upload, "temporary_file_path"):
        return _probe_path(upload.temporary_file_path())
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        return _probe_path(copy.name)


def _probe_path(path: str) -> transcoding.MediaInfo:
    try:
        return transcoding.probe(path)
    except transcoding.TranscodingError as error:
        raise SubmissionRejected("not_video", _(error.reason), "file") from None


def _original_key(video: Video) -> str:
    suffix = Path(video.original_name).suffix.lower()
    suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return f"originals/{video.id}{suffix}"


def video_enqueue(*, video_id) -> None:
    """Send the conversion job; if the broker is down the row stays queued and is sent later."""
    from videos.tasks import convert_video

    _send(convert_video, video_id, job="convert")


def _send(task, video_id, *, job: str) -> None:
    try:
        task.delay(str(video_id))
    except Exception:
        # The requeue sweep finds the row again (queued, or finished without an email).
        logger.exception(
            "could not enqueue %s job for %s; it will be requeued",
            job,
            video_id,
            extra={"event": "enqueue_failed", "video_id": str(video_id), "job": job},
        )


# ---------------------------------------------------------------- convert


def video_convert(*, video_id) -> Video | None:
    """Convert one upload. Safe to call twice: only a claimed, unfinished video is worked on.

    Returns the video when this call finished it (ready or failed), None when there was
    nothing to do. Raises TemporaryFailure when it should be tried again later.
    """
    now = timezone.now()
    claim_until = now + timedelta(seconds=settings.VIDEO_CLAIM_SECONDS)
    claimable = Q(status=Status.QUEUED) | Q(
        status=Status.PROCESSING, claimed_until__lt=now, attempts__lt=settings.CONVERT_MAX_ATTEMPTS
    )
    claimed = Video.objects.filter(claimable, id=video_id).update(
        status=Status.PROCESSING, claimed_until=claim_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return None  # finished already, gone, or another worker holds it
    video = Video.objects.select_related("contest").get(id=video_id)
    logger.info(
        "job started: video %s, attempt %s",
        video.id,
        video.attempts,
        extra={
            "event": "job_started",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "attempt": video.attempts,
        },
    )
    started = timezone.now()
    settings.SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{video.id}-", dir=settings.SCRATCH_DIR))
    try:
        _convert_in(scratch, video)
    except transcoding.TranscodingError as error:
        logger.warning(
            "attempt failed: video %s, attempt %s: %s",
            video.id,
            video.attempts,
            error.reason,
            extra={
                "event": "attempt_failed",
                "video_id": str(video.id),
                "contest": video.contest.slug,
                "attempt": video.attempts,
                "seconds": round((timezone.now() - started).total_seconds(), 2),
                "reason": error.reason,
                "permanent": error.permanent,
                "detail": error.detail[-2000:],  # the end of ffmpeg's output says why
            },
        )
        if error.permanent or video.attempts >= settings.CONVERT_MAX_ATTEMPTS:
            return _video_fail(video, error.reason)
        _video_release(video)
        raise TemporaryFailure(error.reason) from error
    except Exception as error:
        logger.exception(
            "attempt failed: video %s, attempt %s: conversion broke",
            video.id,
            video.attempts,
            extra={
                "event": "attempt_failed",
                "video_id": str(video.id),
                "contest": video.contest.slug,
                "attempt": video.attempts,
                "seconds": round((timezone.now() - started).total_seconds(), 2),
                "reason": str(error)[:500],
                "permanent": False,
            },
        )
        if video.attempts >= settings.CONVERT_MAX_ATTEMPTS:
            return _video_fail(video, reasons.BROKE)
        _video_release(video)
        raise TemporaryFailure(str(error)) from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    seconds = (timezone.now() - started).total_seconds()
    logger.info(
        "converted: video %s in %.2f s",
        video.id,
        seconds,
        extra={
            "event": "video_converted",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "attempt": video.attempts,
            "seconds": round(seconds, 2),
            "status": video.status,
        },
    )
    return video


def _convert_in(scratch: Path, video: Video) -> None:
    source = scratch / "original"
    files.copy_to_path(video.original, source)
    output = scratch / "video.mp4"
    poster = scratch / "poster.jpg"
    ffmpeg = transcoding.find_ffmpeg(settings.FFMPEG)
    info = transcoding.convert(
        source,
        output,
        ffmpeg=ffmpeg,
        extra_args=settings.FFMPEG_ARGS,
        timeout=settings.CONVERT_TIMEOUT,
    )
    transcoding.extract_poster(output, poster, ffmpeg=ffmpeg, timeout=120)

    # Deterministic keys: a second run overwrites the same objects instead of adding new ones.
    with open(output, "rb") as handle:
        video.converted.save(f"videos/{video.id}.mp4", File(handle), save=False)
    with open(poster, "rb") as handle:
        video.poster.save(f"posters/{video.id}.jpg", File(handle), save=False)
    video.duration = info.duration
    video.width = info.video.display_width if info.video else None
    video.height = info.video.display_height if info.video else None
    with transaction.atomic():
        finished = Video.objects.filter(id=video.id, status=Status.PROCESSING).update(
            status=Status.READY,
            converted=video.converted.name,
            poster=video.poster.name,
            duration=video.duration,
            width=video.width,
            height=video.height,
            failure_reason="",
            claimed_until=None,
            finished_at=timezone.now(),
        )
        if finished:
            transaction.on_commit(lambda: notify_enqueue(video_id=video.id))
    video.status = Status.READY


def _video_fail(video: Video, reason: str) -> Video:
    with transaction.atomic():
        Video.objects.filter(id=video.id).exclude(status=Status.READY).update(
            status=Status.FAILED,
            failure_reason=reason,
            claimed_until=None,
            finished_at=timezone.now(),
        )
        transaction.on_commit(lambda: notify_enqueue(video_id=video.id))
    logger.warning(
        "conversion failed: video %s: %s",
        video.id,
        reason,
        extra={
            "event": "video_failed",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "attempt": video.attempts,
            "reason": reason,
            "status": Status.FAILED,
        },
    )
    video.status, video.failure_reason = Status.FAILED, reason
    return video


def _video_release(video: Video) -> None:
    """Give the job back so a later delivery (a retry) can claim it again."""
    Video.objects.filter(id=video.id, status=Status.PROCESSING).update(
        status=Status.QUEUED, claimed_until=None, enqueued_at=timezone.now()
    )


# ---------------------------------------------------------------- notify


def notify_enqueue(*, video_id) -> None:
    from videos.tasks import notify_participant

    _send(notify_participant, video_id, job="notify")


def participant_notify(*, video_id) -> bool:
    """Email the participant once that the video is ready, or that it failed. True if sent now."""
    claimed = Video.objects.filter(
        id=video_id, notified_at__isnull=True, status__in=[Status.READY, Status.FAILED]
    ).update(notified_at=timezone.now())
    if not claimed:
        return False  # sent already, or nothing to say yet
    video = Video.objects.select_related("contest").get(id=video_id)
    with translation.override(video.language):
        context = {
            "video": video,
            "contest": video.contest,
            "video_url": settings.WEB_URL + video.get_absolute_url(),
            "contest_url": video.contest.public_url(),
            "failure_reason": translation.gettext(video.failure_reason),
        }
        if video.status == Status.READY:
            subject = _("Your video for “%(contest)s” is ready") % {"contest": video.contest.name}
            body = render_to_string("videos/email/ready.txt", context)
        else:
            subject = _("We could not convert your video for “%(contest)s”") % {
                "contest": video.contest.name
            }
            body = render_to_string("videos/email/failed.txt", context)
    try:
        send_mail(subject, body, None, [video.email])
    except Exception:
        # Not sent: let a retry claim it again.
        Video.objects.filter(id=video_id).update(notified_at=None)
        raise
    logger.info(
        "email sent: video %s is %s",
        video.id,
        video.status,
        extra={
            "event": "email_sent",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "status": video.status,
        },
    )
    return True


# ---------------------------------------------------------------- moderation and upkeep


def video_set_hidden(*, video: Video, hidden: bool) -> Video:
    Video.objects.filter(id=video.id).update(hidden=hidden)
    video.hidden = hidden
    return video


def videos_requeue_stale(*, now=None) -> dict[str, int]:
    """Find jobs whose message or worker was lost and send them again; end hopeless ones."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "notified": 0}
    expired = Video.objects.filter(status=Status.PROCESSING, claimed_until__lt=now)
    for video in expired.filter(attempts__gte=settings.CONVERT_MAX_ATTEMPTS):
        reason = reasons.KEPT_DYING
        if Video.objects.filter(
            id=video.id, status=Status.PROCESSING, claimed_until__lt=now
        ).update(status=Status.FAILED, failure_reason=reason, claimed_until=None, finished_at=now):
            counts["failed"] += 1
            notify_enqueue(video_id=video.id)
    stale_queued = Q(status=Status.QUEUED) & (
        Q(enqueued_at__lt=now - timedelta(seconds=settings.VIDEO_REQUEUE_AFTER_SECONDS))
        | Q(enqueued_at__isnull=True)
    )
    for video_id in Video.objects.filter(stale_queued | Q(pk__in=expired.values("pk"))).values_list(
        "id", flat=True
    ):
        Video.objects.filter(id=video_id).update(enqueued_at=now)
        video_enqueue(video_id=video_id)
        counts["requeued"] += 1
    unsent = Video.objects.filter(
        status__in=[Status.READY, Status.FAILED],
        notified_at__isnull=True,
        finished_at__lt=now - timedelta(minutes=5),
    )
    for video_id in unsent.values_list("id", flat=True):
        notify_enqueue(video_id=video_id)
        counts["notified"] += 1
    return counts


def video_stored_files(video: Video) -> list[tuple]:
    return [
        (field.storage, field.name)
        for field in (video.original, video.converted, video.poster)
        if field
    ]


def stored_files_delete(files: list[tuple]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("could not delete %s", name)


def upload_too_large(content_length: str | None) -> bool:
    """Refuse early, before the body is read, when the request says it is too large."""
    try:
        return int(content_length or 0) > settings.MAX_UPLOAD_BYTES + 1024 * 1024
    except ValueError:
        return False


def too_large_message() -> str:
    return _("The file is larger than %(size)s MB.") % {"size": settings.MAX_UPLOAD_BYTES // 2**20}
