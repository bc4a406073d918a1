"""Entries: submit an upload, convert it, tell the participant. Called by pages, API and tasks."""

import logging
import shutil
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Max, Min, Q, Sum
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import transcoding
from contests.models import Contest
from contests.validators import validate_single_line, validate_text
from transcoding import streams
from videos import assets, files, mail, reasons, selectors
from videos.captions import captions_check, captions_read
from videos.limits import limit_message
from videos.models import Video, mailbox_key
from videos.public_list import public_list_changed

logger = logging.getLogger(__name__)
Status = Video.Status


class SubmissionRejected(Exception):
    """An upload we refuse; `code` says why: closed, too_large, not_video, incomplete, media_limit,
    invalid, unavailable (our side, try again), or limit (a quota or rate limit: try again
    after `retry_after` seconds)."""

    def __init__(
        self, code: str, message: str, field: str | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after


class TemporaryFailure(Exception):
    """The conversion should be tried again, after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = 30):
        super().__init__(message)
        self.retry_after = retry_after


# ---------------------------------------------------------------- submit


def video_submit(
    *,
    contest: Contest,
    first_name: str,
    last_name: str,
    email: str,
    message: str,
    upload: UploadedFile | None,
    captions: UploadedFile | None = None,
    captions_language: str = "",
) -> Video:
    """Check an entry, store the original and queue its conversion.

    Everything that can refuse an entry is decided here, before any work is queued: the
    contest is open and its organizer confirmed, the fields are clean, the participant and the
    contest are within their quotas, and the file's headers are within the media limits.
    """
    video = _entry_checked(
        contest=contest, first_name=first_name, last_name=last_name, email=email,
        message=message, name=upload.name if upload else "", size=upload.size if upload else None,
        captions=captions, captions_language=captions_language,
    )  # fmt: skip
    video.captions, video.captions_language = _check_captions(captions, captions_language)
    video.original_format = _probe_upload(upload).format_name[:100]
    upload.seek(0)
    # Stored before the row exists, so the quota check below holds its lock only for a moment.
    video.original.save(original_key(video), upload, save=False)
    return _video_save(video)


def video_submit_stored(
    *,
    contest: Contest,
    video_id,
    key: str,
    name: str,
    size: int,
    first_name: str,
    last_name: str,
    email: str,
    message: str,
    captions: UploadedFile | None = None,
    captions_language: str = "",
) -> Video:
    """An entry whose original the participant's browser put in the originals storage itself
    (straight to S3, videos/resumable.py): video_submit's checks but the probe, which the
    conversion makes. A file that is not a video fails there, with a reason and an email."""
    video = _entry_checked(
        contest=contest, first_name=first_name, last_name=last_name, email=email,
        message=message, name=name, size=size,
        captions=captions, captions_language=captions_language,
    )  # fmt: skip
    video.captions, video.captions_language = _check_captions(captions, captions_language)
    video.id = video_id  # the upload's: its original is at the entry's key already
    video.original = key
    return _video_save(video)


def _entry_checked(
    *,
    contest,
    first_name,
    last_name,
    email,
    message,
    name,
    size,
    captions=None,
    captions_language="",
) -> Video:
    """An unsaved entry of these fields once they pass every check made before the video is
    read; else the first refusal (SubmissionRejected)."""
    _check_open(contest)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email, message = (email or "").strip(), (message or "").strip()
    refusals = _entry_refusals(
        contest=contest, first_name=first_name, last_name=last_name, email=email,
        message=message, size=size, captions=captions, captions_language=captions_language,
    )  # fmt: skip
    if refusals:
        raise refusals[0]
    return Video(
        contest=contest,
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_key=mailbox_key(email),
        message=message,
        original_name=Path(name or "video").name[:255],
        original_size=size,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def _video_save(video: Video) -> Video:
    """Save an entry whose original is stored, and queue its conversion; the original is
    deleted if the entry is not saved."""
    contest = video.contest
    try:
        with transaction.atomic():
            # One submission of a contest at a time between the check and the insert, so
            # parallel uploads cannot all slip under a quota.
            Contest.objects.select_for_update().filter(id=contest.id).first()
            _check_quotas(contest, video.email_key, video.original_size)
            video.enqueued_at = timezone.now()
            video.save()
            transaction.on_commit(lambda: video_enqueue(video_id=video.id))
    except BaseException:
        video.original.storage.delete(video.original.name)
        raise
    logger.info(
        "upload received: video %s for %s, %s bytes",
        video.id,
        contest.slug,
        video.original_size,
        extra={
            "event": "upload_received",
            "video_id": str(video.id),
            "contest": contest.slug,
            "size": video.original_size,
            "format": video.original_format,
        },
    )
    return video


def video_check(
    *,
    contest: Contest,
    first_name: str,
    last_name: str,
    email: str,
    message: str,
    size: int | None,
    captions: UploadedFile | None = None,
    captions_language: str = "",
) -> dict[str, list[str]]:
    """What video_submit would refuse before it reads the video, for every field at once, so
    a participant hears of a typo before sending a large file. Raises SubmissionRejected when
    the contest takes no entries; returns the messages by field, empty when all is well."""
    _check_open(contest)
    refusals = _entry_refusals(
        contest=contest,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        email=(email or "").strip(),
        message=(message or "").strip(),
        size=size,
        captions=captions,
        captions_language=captions_language,
    )
    errors: dict[str, list[str]] = {}
    for refusal in refusals:
        errors.setdefault(refusal.field or "non_field_errors", []).append(refusal.message)
    return errors


def _entry_refusals(
    *, contest, first_name, last_name, email, message, size, captions, captions_language
) -> list[SubmissionRejected]:
    """Every refusal of an entry's fields and size, in the order video_submit reports them."""
    refusals = _field_refusals(
        first_name=first_name, last_name=last_name, email=email, message=message
    )
    if size is None:
        refusals.append(SubmissionRejected("invalid", _("Choose a video file to upload."), "file"))
    elif size > settings.MAX_UPLOAD_BYTES:
        refusals.append(SubmissionRejected("too_large", too_large_message(), "file"))
    try:
        _check_captions(captions, captions_language)
    except SubmissionRejected as refusal:
        refusals.append(refusal)
    if not refusals:  # the quotas count only a valid address and a size within the limit
        try:
            _check_quotas(contest, mailbox_key(email), size)
        except SubmissionRejected as refusal:
            refusals.append(refusal)
    return refusals


def _when(moment) -> str:
    return formats.date_format(moment, "DATETIME_FORMAT")


def _check_open(contest: Contest) -> None:
    from accounts.services import organizer_can_receive_entries

    now = timezone.now()
    if now < contest.starts_at:
        raise SubmissionRejected(
            "closed", _("This contest opens on %(date)s UTC.") % {"date": _when(contest.starts_at)}
        )
    if now >= contest.ends_at:
        raise SubmissionRejected(
            "closed", _("This contest closed on %(date)s UTC.") % {"date": _when(contest.ends_at)}
        )
    if not organizer_can_receive_entries(contest.owner):
        raise SubmissionRejected(
            "closed",
            _(
                "This contest does not take entries yet: its organizer has not confirmed "
                "their email address."
            ),
        )


def _field_refusals(
    *, first_name: str, last_name: str, email: str, message: str
) -> list[SubmissionRejected]:
    """The first refusal of each text field."""
    found: dict[str, str] = {}
    if not first_name:
        found["first_name"] = _("Enter your first name.")
    if not last_name:
        found["last_name"] = _("Enter your last name.")
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > 100:
            found.setdefault(field, _("Names can have at most 100 characters."))
    for field, value, validate in (
        ("first_name", first_name, validate_single_line),
        ("last_name", last_name, validate_single_line),
        ("email", email, validate_single_line),
        ("message", message, validate_text),
    ):
        try:
            validate(value)
        except ValidationError as error:
            found.setdefault(field, error.messages[0])
    try:
        validate_email(email)
    except ValidationError:
        found.setdefault("email", _("Enter a valid email address."))
    if len(message) > 2000:
        found.setdefault("message", _("The message can have at most 2000 characters."))
    order = ("first_name", "last_name", "email", "message")
    return [SubmissionRejected("invalid", found[field], field) for field in order if field in found]


def _check_captions(upload: UploadedFile | None, language: str) -> tuple[str, str]:
    """Captions sent with the entry (optional), judged as the organizer's are; the WebVTT and
    its language, or empty ones without a file."""
    if not upload:
        return "", ""
    try:
        return captions_check(content=captions_read(upload), language=language)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        form_field = {"file": "captions", "language": "captions_language"}[field]
        raise SubmissionRejected("invalid", messages[0], form_field) from None


def _check_quotas(contest: Contest, email_key: str, size: int) -> None:
    """The participant's entry limit and the contest's storage, counted in the database."""
    until_close = max((contest.ends_at - timezone.now()).total_seconds(), 60)
    entries = (
        Video.objects.filter(contest=contest, email_key=email_key)
        .exclude(status=Status.FAILED)  # a file that could not be converted does not count
        .count()
    )
    if entries >= contest.max_entries_per_email:
        raise SubmissionRejected(
            "limit",
            ngettext(
                "This email address has already entered %(count)s video in this contest, "
                "the most it accepts from one participant.",
                "This email address has already entered %(count)s videos in this contest, "
                "the most it accepts from one participant.",
                entries,
            )
            % {"count": entries},
            "email",
            retry_after=until_close,
        )
    stored = Video.objects.filter(contest=contest).aggregate(total=Sum("original_size"))["total"]
    if (stored or 0) + size > settings.CONTEST_STORAGE_BYTES:
        raise SubmissionRejected(
            "limit",
            _(
                "This contest has received all the video it can store (%(size)s GB). "
                "Please tell its organizer."
            )
            % {"size": round(settings.CONTEST_STORAGE_BYTES / 1024**3, 1)},
            "file",
            retry_after=until_close,
        )


def media_limits() -> transcoding.MediaLimits:
    return transcoding.MediaLimits(
        max_duration=settings.MAX_DURATION_SECONDS,
        max_side=settings.MAX_VIDEO_SIDE,
        max_pixels=settings.MAX_VIDEO_PIXELS,
        max_streams=settings.MAX_STREAMS,
        max_frame_rate=settings.MAX_FRAME_RATE,
    )


def _probe_upload(upload: UploadedFile) -> transcoding.MediaInfo:
    """The check in the request: the headers must show a video within the media limits.

    The probe runs in a child process with its own memory and time limits, so a file built to
    exhaust the reader cannot grow this web process.
    """
    if hasattr(upload, "temporary_file_path"):
        return _probe_path(upload.temporary_file_path())
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        return _probe_path(copy.name)


def _probe_path(path: str) -> transcoding.MediaInfo:
    try:
        return transcoding.probe_isolated(
            path,
            limits=media_limits(),
            memory_bytes=settings.PROBE_MEMORY_BYTES,
            seconds=settings.PROBE_SECONDS,
        )
    except transcoding.LimitExceeded as error:
        raise SubmissionRejected("media_limit", limit_message(error), "file") from None
    except transcoding.TranscodingError as error:
        if not error.permanent:  # the check itself broke (our side): not the file's fault
            logger.error("upload check failed: %s", error, extra={"event": "probe_failed"})
            raise SubmissionRejected("unavailable", _(error.reason), "file") from None
        code = "incomplete" if error.reason == transcoding.TRUNCATED else "not_video"
        raise SubmissionRejected(code, _(error.reason), "file") from None


def original_key(video: Video) -> str:
    suffix = Path(video.original_name).suffix.lower()
    suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return f"originals/{video.id}{suffix}"


def video_enqueue(*, video_id) -> None:
    """Send the conversion job; if the broker is down the row stays queued and is sent later."""
    from videos.tasks import convert_video

    try:
        convert_video.delay(str(video_id))
    except Exception as error:
        # The next sweep finds the row again: a queued one without enqueued_at. One line, no
        # traceback: during an outage every sweep meets every waiting row.
        Video.objects.filter(id=video_id, status=Status.QUEUED).update(enqueued_at=None)
        logger.error(
            "could not enqueue the conversion of %s; it will be sent again: %s",
            video_id,
            error,
            extra={"event": "enqueue_failed", "video_id": str(video_id), "job": "convert"},
        )


# ---------------------------------------------------------------- convert

# A conversion that hits its time limit this often is too slow for its input, not unlucky.
MAX_TIMEOUTS = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def video_convert_next(*, hint=None) -> Video | None:
    """Convert the entry whose turn it is. Called for each job message.

    A message is a turn, not a name: contests take turns, so thirty entries queued by one
    contest delay another contest's entry by one conversion at most. The turn goes to a waiting
    entry of the contest with the fewest conversions running, then of the contest served least
    recently; within a contest, the oldest entry. `hint` (the message's video id) only names
    the message in the logs. Returns what video_convert returns; None when nothing waits.
    """
    for _try in range(5):  # another worker may claim the chosen entry first: choose again
        video_id = _next_in_turn()
        if video_id is None:
            return None
        video = _claim(video_id)
        if video is not None:
            if hint and str(video_id) != str(hint):
                logger.info(
                    "turn taken: message for %s converts %s",
                    hint,
                    video_id,
                    extra={
                        "event": "job_turn",
                        "video_id": str(video_id),
                        "message_for": str(hint),
                    },
                )
            return _convert_claimed(video)
    return None


def video_convert(*, video_id) -> Video | None:
    """Convert one given upload. Safe to call twice: only a claimable video is worked on.

    Returns the video when this call finished it (ready or failed), None when there was
    nothing to do. Raises TemporaryFailure when it should be tried again later.
    """
    video = _claim(video_id)
    return _convert_claimed(video) if video is not None else None


def video_turn_later(*, video_id) -> float | None:
    """Seconds after which a message that found nothing to claim should come back, or None.

    Its entry may be pausing before a retry (come back then) or held by a live worker (come
    back after a lease: if that worker died, the turn is there to finish the job).
    """
    row = (
        Video.objects.filter(id=video_id, status__in=[Status.QUEUED, Status.PROCESSING])
        .values("status", "available_at", "claimed_until")
        .first()
    )
    if row is None:
        return None  # finished or gone: the message is spent
    now = timezone.now()
    if row["status"] == Status.QUEUED:
        waiting = ((row["available_at"] or now) - now).total_seconds()
        return max(1.0, min(waiting + 1, 300.0))
    logger.info(
        "job busy: video %s is being converted by a live worker; this message comes back later",
        video_id,
        extra={"event": "job_busy", "video_id": str(video_id)},
    )
    return float(settings.JOB_LEASE_SECONDS)


def _claimable(now) -> Q:
    # Only queued entries: each was queued together with a message. A lapsed claim is queued
    # again by the sweep, with a message of its own, so turns and jobs stay one to one.
    return Q(status=Status.QUEUED) & (Q(available_at__isnull=True) | Q(available_at__lte=now))


def _next_in_turn() -> str | None:
    now = timezone.now()
    claimable = Video.objects.filter(_claimable(now))
    oldest = dict(
        claimable.values("contest_id")
        .annotate(oldest=Min("created_at"))
        .order_by()
        .values_list("contest_id", "oldest")
    )
    if not oldest:
        return None
    running = Counter(
        Video.objects.filter(
            status=Status.PROCESSING, claimed_until__gte=now, contest_id__in=oldest
        ).values_list("contest_id", flat=True)
    )
    served = dict(
        Video.objects.filter(contest_id__in=oldest, started_at__isnull=False)
        .values("contest_id")
        .annotate(last=Max("started_at"))
        .order_by()
        .values_list("contest_id", "last")
    )
    contest_id = min(oldest, key=lambda c: (running[c], served.get(c) or EPOCH, oldest[c]))
    return (
        claimable.filter(contest_id=contest_id)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
        .first()
    )


def _claim(video_id) -> Video | None:
    now = timezone.now()
    claim_until = now + timedelta(seconds=settings.JOB_LEASE_SECONDS)
    claimed = Video.objects.filter(_claimable(now), id=video_id).update(
        status=Status.PROCESSING,
        claimed_until=claim_until,
        started_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None  # finished already, gone, waiting for its retry, or another worker has it
    return Video.objects.select_related("contest").get(id=video_id)


@contextmanager
def _heartbeat(video: Video):
    """Renew the video's claim while the block runs: proof that its worker is alive.

    A worker that dies stops renewing, and the claim lapses within one lease whatever the
    time limit; the sweep then hands the job to another worker.
    """
    stop = threading.Event()
    lease = timedelta(seconds=settings.JOB_LEASE_SECONDS)

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_LEASE_SECONDS / 4):
                try:
                    Video.objects.filter(id=video.id, status=Status.PROCESSING).update(
                        claimed_until=timezone.now() + lease
                    )
                except DatabaseError as error:  # an outage: renew at the next beat
                    logger.warning(
                        "heartbeat failed: video %s: %s",
                        video.id,
                        error,
                        extra={"event": "heartbeat_failed", "video_id": str(video.id)},
                    )
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"heartbeat-{video.id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def conversion_budget() -> transcoding.Budget:
    """What one conversion may spend; its time grows with the input's duration."""
    return transcoding.Budget(
        memory_bytes=settings.CONVERT_MEMORY_BYTES,
        max_output_bytes=settings.MAX_OUTPUT_BYTES,
        timeout_base=settings.CONVERT_TIMEOUT_BASE,
        timeout_per_second=settings.CONVERT_TIMEOUT_PER_SECOND,
        timeout_ceiling=settings.CONVERT_TIMEOUT,
        probe_memory_bytes=settings.PROBE_MEMORY_BYTES,
        probe_seconds=settings.PROBE_SECONDS,
    )


def _convert_claimed(video: Video) -> Video:
    log = {"video_id": str(video.id), "contest": video.contest.slug, "attempt": video.attempts}
    logger.info(
        "job started: video %s, attempt %s",
        video.id,
        video.attempts,
        extra={"event": "job_started", **log},
    )
    started = timezone.now()
    scratch = None
    try:
        settings.SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{video.id}-", dir=settings.SCRATCH_DIR))
        with _heartbeat(video):
            _convert_in(scratch, video)
    except (transcoding.TranscodingError, SoftTimeLimitExceeded) as error:
        timed_out = isinstance(error, transcoding.ConversionTimeout | SoftTimeLimitExceeded)
        if isinstance(error, SoftTimeLimitExceeded):
            error = transcoding.ConversionTimeout(
                transcoding.run.TOO_SLOW, detail="the task's time limit"
            )
        logger.warning(
            "attempt failed: video %s, attempt %s: %s",
            video.id,
            video.attempts,
            error.reason,
            extra={
                "event": "attempt_failed",
                **log,
                "seconds": round((timezone.now() - started).total_seconds(), 2),
                "reason": error.reason,
                "permanent": error.permanent,
                "timed_out": timed_out,
                "detail": error.detail[-2000:],  # the end of ffmpeg's output says why
            },
        )
        _remove_outputs(video)
        if isinstance(error, transcoding.LimitExceeded | transcoding.OutputTooLarge):
            # Stored in the participant's language: the numbers make it a sentence of its own.
            with translation.override(video.language):
                return _video_fail(video, limit_message(error))
        if error.permanent:
            return _video_fail(video, error.reason)
        if not timed_out:
            return _our_setback(video, error)
        Video.objects.filter(id=video.id).update(timeouts=F("timeouts") + 1)
        video.timeouts += 1
        if video.timeouts >= MAX_TIMEOUTS or video.attempts >= settings.CONVERT_MAX_ATTEMPTS:
            return _video_fail(video, error.reason)
        raise TemporaryFailure(error.reason, retry_after=_video_release(video)) from error
    except (OperationalError, InterfaceError):
        raise  # the database is down: the task waits for it; the lease lapses meanwhile
    except Exception as error:
        logger.exception(
            "attempt failed: video %s, attempt %s: conversion broke",
            video.id,
            video.attempts,
            extra={
                "event": "attempt_failed",
                **log,
                "seconds": round((timezone.now() - started).total_seconds(), 2),
                "reason": str(error)[:500],
                "permanent": False,
            },
        )
        _remove_outputs(video)
        return _our_setback(video, error)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    seconds = (timezone.now() - started).total_seconds()
    logger.info(
        "converted: video %s in %.2f s",
        video.id,
        seconds,
        extra={
            "event": "video_converted",
            **log,
            "seconds": round(seconds, 2),
            "status": video.status,
        },
    )
    return video


def _convert_in(scratch: Path, video: Video) -> None:
    output = scratch / "video.mp4"
    poster = scratch / "poster.jpg"
    info = transcoding.convert(
        _local_path(video.original, scratch / "original"),
        output,
        poster=poster,  # from the original, by the probe's bounded child
        ffmpeg=transcoding.find_ffmpeg(settings.FFMPEG),
        extra_args=settings.FFMPEG_ARGS,
        limits=media_limits(),
        budget=conversion_budget(),
        threads=settings.FFMPEG_THREADS,
        warm_probe=True,  # this worker process keeps a probe server: no Python start a job
    )

    thumbnails = scratch / "thumbnails"
    thumbnails.mkdir()
    names = _thumbnails(video, poster, thumbnails)

    # Deterministic keys: a second run overwrites the same objects instead of adding new ones.
    _store_finished(video.converted, f"videos/{video.id}.mp4", output)
    _store_finished(video.poster, f"posters/{video.id}.jpg", poster)
    # Public: a hidden entry's is moved at the end. Without thumbnails, none yet: the stream
    # job tries them again, as for an entry converted before there were any.
    video.assets = assets.folder_for(video) if names else ""
    for name in names:
        _store_in(video.converted.storage, video.assets + name, thumbnails / name)
    video.duration = info.duration
    video.width = info.video.display_width if info.video else None
    video.height = info.video.display_height if info.video else None

    def finish() -> None:
        with transaction.atomic():
            public_list_changed(contest_id=video.contest_id)
            # Still this attempt's: if its claim lapsed meanwhile (a database outage stopped
            # the heartbeat) and another worker took the entry, that worker finishes it.
            finished = Video.objects.filter(
                id=video.id,
                attempts=video.attempts,
                status__in=[Status.PROCESSING, Status.QUEUED],
            ).update(
                status=Status.READY,
                converted=video.converted.name,
                poster=video.poster.name,
                duration=video.duration,
                width=video.width,
                height=video.height,
                assets=video.assets,
                loudness=info.source_loudness,
                streams_status=Video.StreamsStatus.PENDING,
                streams_attempts=0,
                streams_enqueued_at=None,  # due: a worker's stream thread makes them
                failure_reason="",
                last_error="",
                claimed_until=None,
                finished_at=timezone.now(),
            )
            if finished:
                # Hidden while converting: its files leave the public prefix right away.
                transaction.on_commit(lambda: video_files_settle(video_id=video.id), robust=True)
                transaction.on_commit(lambda: notify_now(video_id=video.id))

    # A finished conversion is not thrown away for a database that is briefly unreachable.
    _retry_database(finish, seconds=settings.JOB_LEASE_SECONDS * 2)
    video.status = Status.READY


def _thumbnails(video: Video, poster: Path, folder: Path) -> list[str]:
    """The gallery's thumbnails of the poster; none when they cannot be made (the gallery
    then shows the poster itself): an entry is never held back for them."""
    try:
        return streams.make_thumbnails(poster, folder, widths=assets.THUMBNAIL_WIDTHS)
    except (transcoding.TranscodingError, OSError) as error:
        logger.warning(
            "no thumbnails for video %s: %s",
            video.id,
            error,
            extra={"event": "thumbnails_failed", "video_id": str(video.id)},
        )
        return []


def _local_path(field, copy: Path) -> Path:
    """A stored file as a local file: read where it is on a local disk (ffmpeg only reads it),
    else copied to `copy` in the scratch folder."""
    try:
        return Path(field.storage.path(field.name))
    except NotImplementedError:  # S3: no local path
        files.copy_to_path(field, copy)
        return copy


class _FinishedFile(File):
    """A finished local file: a storage on the same disk moves it into place (Django's
    FileSystemStorage does for anything with temporary_file_path) instead of copying it."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _store_finished(field, name: str, path: Path) -> None:
    with open(path, "rb") as handle:
        field.save(name, _FinishedFile(handle), save=False)


def _store_in(storage, name: str, path: Path) -> None:
    with open(path, "rb") as handle:
        stored = storage.save(name, _FinishedFile(handle))
    if stored != name:  # a storage that renames instead of overwriting would break the links
        raise OSError(f"the storage stored {name} as {stored}")


def _retry_database(write, *, seconds: float) -> None:
    """Run `write`, trying again for up to `seconds` while the database is unreachable."""
    deadline = time.monotonic() + seconds
    pause = 0.5
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + pause > deadline:
                raise
            logger.warning(
                "database unreachable, trying again in %.1f s: %s",
                pause,
                error,
                extra={"event": "database_retry"},
            )
            connections.close_all()
            time.sleep(pause)
            pause = min(pause * 2, 5)


def _video_fail(video: Video, reason: str) -> Video:
    with transaction.atomic():
        Video.objects.filter(id=video.id).exclude(status=Status.READY).update(
            status=Status.FAILED,
            failure_reason=reason,
            claimed_until=None,
            finished_at=timezone.now(),
        )
        transaction.on_commit(lambda: notify_now(video_id=video.id))
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


# Our side may fail for a long time (a full disk, storage down): entries wait, with pauses
# growing with their wait up to LONGEST_PAUSE, and end failed only after this long.
OUTAGE_GIVE_UP = timedelta(hours=24)
LONGEST_PAUSE = 3600.0


def _our_setback(video: Video, error: Exception) -> Video:
    """A failure on our side (disk, storage, ffmpeg missing, a bug), not the input's: it does
    not use up one of the entry's attempts and is never reported to the participant as their
    file's fault. The entry is tried again later, after pauses that grow with how long it has
    waited, and fails (as our problem) only after OUTAGE_GIVE_UP."""
    waited = timezone.now() - video.created_at
    reason = getattr(error, "reason", "") or str(error)
    logger.error(
        "our side failed: video %s waits (%s): %s",
        video.id,
        waited,
        reason,
        extra={
            "event": "our_fault",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "waited_seconds": round(waited.total_seconds()),
            "reason": reason[:500],
        },
    )
    if waited > OUTAGE_GIVE_UP:
        return _video_fail(video, reasons.BROKE)
    Video.objects.filter(id=video.id).update(
        attempts=Greatest(F("attempts") - 1, 0), last_error=reason[:1000]
    )
    pause = min(max(settings.OUTAGE_PAUSE_SECONDS, waited.total_seconds() / 4), LONGEST_PAUSE)
    raise TemporaryFailure(reason, retry_after=_video_release(video, pause=pause)) from error


def _remove_outputs(video: Video) -> None:
    """What a failed attempt may have half-written to public storage (a full disk)."""
    storage = video.converted.storage
    folder = assets.folder_for(video)
    names = [f"videos/{video.id}.mp4", f"posters/{video.id}.jpg"]
    names += files.folder_files(storage, folder)
    names += files.folder_files(storage, files.HIDDEN_PREFIX + folder)
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("could not remove %s", name)


def _video_release(video: Video, *, pause: float | None = None) -> float:
    """Give the job back, to be claimed again after a pause (by default growing with each
    attempt). Returns the pause in seconds."""
    pause = min(30 * video.attempts, 300) if pause is None else pause
    now = timezone.now()
    Video.objects.filter(id=video.id, status=Status.PROCESSING).update(
        status=Status.QUEUED,
        claimed_until=None,
        enqueued_at=now,
        available_at=now + timedelta(seconds=pause),
    )
    return pause


# ---------------------------------------------------------------- streams

Streams = Video.StreamsStatus
# A stream job that failed this often, or for good, leaves the entry on its MP4 alone.
STREAMS_MAX_ATTEMPTS = 3
STREAMS_SLOT = "streams-slot-{number}"  # the shared cache's keys of the running stream jobs


def _streams_slot_take() -> str | None:
    """One of the settings.STREAMS_AT_ONCE places for a running stream job, cluster-wide (in
    the shared cache), or None when all are taken. A dead worker's place frees itself when
    its job could no longer be running."""
    for number in range(settings.STREAMS_AT_ONCE):
        key = STREAMS_SLOT.format(number=number)
        if cache.add(key, "1", timeout=settings.JOB_MAX_SECONDS):
            return key
    return None


def _conversions_waiting() -> bool:
    """An entry waits for a worker now (not one pausing before a retry)."""
    return Video.objects.filter(
        Q(available_at__isnull=True) | Q(available_at__lte=timezone.now()),
        status=Status.QUEUED,
    ).exists()


def _streams_due(now) -> Q:
    """Pending streams that nobody is making: never taken, or taken so long ago that the job
    could no longer be running (its worker died, or it failed for a reason that may pass)."""
    return Q(status=Status.READY, streams_status=Streams.PENDING) & (
        Q(streams_enqueued_at__isnull=True)
        | Q(streams_enqueued_at__lt=now - timedelta(seconds=settings.STREAMS_RESEND_SECONDS))
    )


def videos_streams_backfill() -> int:
    """Give the ready entries converted before streams existed a stream, storyboard and
    thumbnails: they become pending, and the workers make them one after another."""
    return Video.objects.filter(status=Status.READY, streams_status=Streams.NONE).update(
        streams_status=Streams.PENDING, streams_attempts=0, streams_enqueued_at=None
    )


def streams_make_next() -> bool:
    """Make the streams of the ready entry that has waited longest for them. Each worker's
    stream thread calls this, outside the job queue, so that a stream job never holds a
    place a conversion needs. True when it made some."""
    due = Video.objects.filter(_streams_due(timezone.now()))
    spent = due.filter(streams_attempts__gte=STREAMS_MAX_ATTEMPTS)
    if spent.exists():  # read first: an idle thread writes nothing
        spent.update(streams_status=Streams.FAILED)
    video_id = due.order_by("finished_at").values_list("id", flat=True).first()
    return video_id is not None and video_make_streams(video_id=video_id)


def video_make_streams(*, video_id) -> bool:
    """Make a ready entry's HLS stream (its MP4 packaged, plus a smaller rendition) and its
    storyboard, and store them in its folder. True when this call made them.

    Only for a ready entry whose streams are pending and not being made: a second call, once
    they are made or while they are, does nothing. It gives way (False, the entry stays due)
    while conversions wait or STREAMS_AT_ONCE stream jobs run cluster-wide: a participant
    waits for a conversion, while the entry plays its MP4 until its stream is made, and for
    good if it fails: a permanent failure, or STREAMS_MAX_ATTEMPTS, marks the streams failed;
    a temporary one is due again after STREAMS_RESEND_SECONDS.
    """
    slot = None if _conversions_waiting() else _streams_slot_take()
    if slot is None:  # conversions are waiting, or enough stream jobs are running
        return False
    try:
        return _video_make_streams(video_id)
    finally:
        cache.delete(slot)


def _video_make_streams(video_id) -> bool:
    now = timezone.now()
    claimed = (
        Video.objects.filter(_streams_due(now), id=video_id)
        .filter(streams_attempts__lt=STREAMS_MAX_ATTEMPTS)
        .update(streams_attempts=F("streams_attempts") + 1, streams_enqueued_at=now)
    )
    if not claimed:
        return False
    video = Video.objects.select_related("contest").get(id=video_id)
    log = {"video_id": str(video.id), "contest": video.contest.slug}
    started = time.monotonic()
    settings.SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{video.id}-streams-", dir=settings.SCRATCH_DIR))
    try:
        made = _make_streams_in(scratch, video)
    except (transcoding.TranscodingError, SoftTimeLimitExceeded) as error:
        permanent = getattr(error, "permanent", False)
        reason = getattr(error, "reason", "") or "the task's time limit"
        gave_up = permanent or video.streams_attempts >= STREAMS_MAX_ATTEMPTS
        if gave_up:
            Video.objects.filter(id=video.id, streams_status=Streams.PENDING).update(
                streams_status=Streams.FAILED
            )
        logger.warning(
            "streams not made: video %s, attempt %s: %s",
            video.id,
            video.streams_attempts,
            reason,
            extra={
                "event": "streams_failed",
                **log,
                "reason": reason,
                "permanent": permanent,
                "gave_up": gave_up,
                "detail": getattr(error, "detail", "")[-2000:],
            },
        )
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info(
        "streams made: video %s, %s renditions, in %.2f s",
        video.id,
        len(made.renditions),
        time.monotonic() - started,
        extra={
            "event": "streams_made",
            **log,
            "renditions": [rendition.height for rendition in made.renditions],
            "seconds": round(time.monotonic() - started, 2),
        },
    )
    return True


def _make_streams_in(scratch: Path, video: Video) -> streams.Streams:
    source = _local_path(video.converted, scratch / "video.mp4")
    made_dir = scratch / "streams"
    made_dir.mkdir()
    budget = conversion_budget()
    made = streams.make_streams(
        source,
        made_dir,
        ffmpeg=transcoding.find_ffmpeg(settings.FFMPEG),
        timeout=budget.timeout_for(video.duration or settings.MAX_DURATION_SECONDS),
        memory_bytes=budget.memory_bytes,
        threads=settings.FFMPEG_THREADS,
    )
    names = list(made.files)
    if not video.assets and video.poster:  # converted before entries had thumbnails
        poster = scratch / "poster.jpg"
        files.copy_to_path(video.poster, poster)
        # A failure here fails the job (the entry is due again later): the folder is set only
        # with its thumbnails in it.
        names += streams.make_thumbnails(poster, made_dir, widths=assets.THUMBNAIL_WIDTHS)
    storage = video.converted.storage
    folder = video.assets or (files.HIDDEN_PREFIX if video.hidden else "") + assets.folder_for(
        video
    )
    for name in names:
        _store_in(storage, folder + name, made_dir / name)

    with transaction.atomic():
        public_list_changed(contest_id=video.contest_id)  # the API's list shows stream_url
        row = Video.objects.select_for_update().filter(id=video.id).first()
        if row is None or row.status != Status.READY:  # deleted meanwhile
            files.delete_now([(storage, folder + name) for name in names])
            return made
        if row.assets and row.assets != folder:  # hidden or shown while the stream was made
            files.move_folder(
                storage, folder, row.assets, public=not row.assets.startswith(files.HIDDEN_PREFIX)
            )
        Video.objects.filter(id=video.id).update(
            streams_status=Streams.READY, assets=row.assets or folder
        )
    return made


# ---------------------------------------------------------------- notify


def notify_now(*, video_id) -> bool:
    """Send the email from this process, never from the job queue: a ready entry's email
    does not wait behind queued conversions. A send that failed is tried again by the sweep
    after its pause (see participant_notify). True if sent now."""
    try:
        return participant_notify(video_id=video_id)
    except Exception as error:
        logger.warning(
            "email not sent yet: video %s: %s; it will be tried again",
            video_id,
            error,
            extra={"event": "email_retry", "video_id": str(video_id)},
        )
        return False


# A mail outage is ours, however long: an email is tried again with pauses doubling from
# outage_pause_seconds up to LONGEST_PAUSE, and given up only after this long (as mail servers
# keep a message queued for five days).
EMAIL_GIVE_UP = timedelta(days=5)


def participant_notify(*, video_id) -> bool:
    """Email the participant once that the video is ready, or that it failed. True if sent now.

    The email is claimed for email_claim_seconds and marked sent only once it went out: a
    worker that dies before or while sending lets the claim lapse, and the sweep sends it
    again. A temporary failure (the mail server down or throttling) holds the claim for a
    pause that doubles with each try, up to an hour, for up to EMAIL_GIVE_UP. Its Message-ID
    is fixed per entry and outcome, so a second send after a crash at the very end overwrites
    the embedded setup's .eml file (and lets mail clients see one).
    A message refused for good (a bad header, a refused recipient) and a recipient over the
    daily limit are recorded in notify_error and never tried again.
    """
    now = timezone.now()
    claimed = Video.objects.filter(
        Q(notify_claimed_until__isnull=True) | Q(notify_claimed_until__lt=now),
        id=video_id,
        notified_at__isnull=True,
        status__in=[Status.READY, Status.FAILED],
    ).update(
        notify_claimed_until=now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS),
        notify_attempts=F("notify_attempts") + 1,
    )
    if not claimed:
        return False  # sent already, being sent, given up, or nothing to say yet
    video = Video.objects.select_related("contest").get(id=video_id)
    if _recipient_over_daily_limit(video, now):
        return _notify_given_up(video, "daily email limit of this recipient reached")
    with translation.override(video.language):
        context = {
            "video": video,
            "contest": video.contest,
            "video_url": settings.WEB_URL + video.get_absolute_url(),
            "contest_url": video.contest.public_url(),
            "failure_reason": translation.gettext(video.failure_reason),
            "poster_url": _email_poster_url(video),
        }
        if video.status == Status.READY:
            subject = _("Your video for “%(contest)s” is ready") % {"contest": video.contest.name}
            body = render_to_string("videos/email/ready.txt", context)
            html = render_to_string("videos/email/ready.html", context)
        else:
            subject = _("We could not convert your video for “%(contest)s”") % {
                "contest": video.contest.name
            }
            body = render_to_string("videos/email/failed.txt", context)
            html = render_to_string("videos/email/failed.html", context)
    message = EmailMultiAlternatives(
        subject, body, to=[video.email], headers={"Message-ID": mail.message_id(video)}
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as error:
        if mail.permanent_failure(error):
            return _notify_given_up(video, f"refused: {error}"[:1000])
        if now - (video.finished_at or now) > EMAIL_GIVE_UP:
            _notify_given_up(video, f"gave up after {video.notify_attempts} tries: {error}"[:1000])
        else:
            _notify_later(video, error)
        raise
    _retry_database(
        lambda: Video.objects.filter(id=video_id).update(
            notified_at=timezone.now(), notify_claimed_until=None, notify_last_error=""
        ),
        seconds=settings.EMAIL_CLAIM_SECONDS / 2,
    )
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


def _email_poster_url(video: Video) -> str | None:
    """The picture of a ready email: the public thumbnail (else the poster) as an absolute URL;
    none for an entry that is not public, whose files are private."""
    if not video.is_public or not video.poster:
        return None
    url = assets.thumbnail_urls(video).get(640) or video.poster.url
    return settings.WEB_URL + url if url.startswith("/") else url


def _notify_later(video: Video, error: Exception) -> None:
    """Not sent, for a reason that may pass: hold the claim through a pause, then the sweep
    tries again. The operator sees why in notify_last_error, the logs and worker_health."""
    exponent = min(max(video.notify_attempts - 1, 0), 20)
    pause = min(settings.OUTAGE_PAUSE_SECONDS * 2**exponent, LONGEST_PAUSE)
    Video.objects.filter(id=video.id).update(
        notify_claimed_until=timezone.now() + timedelta(seconds=pause),
        notify_last_error=str(error)[:1000],
    )
    logger.warning(
        "email waits %.0f s: video %s, try %s: %s",
        pause,
        video.id,
        video.notify_attempts,
        error,
        extra={
            "event": "email_waits",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "attempt": video.notify_attempts,
            "pause_seconds": pause,
            "reason": str(error)[:500],
        },
    )


def _recipient_over_daily_limit(video: Video, now) -> bool:
    """Whoever types an address into entry forms cannot flood its inbox: N emails a day."""
    sent_today = (
        Video.objects.filter(
            email_key=video.email_key, notified_at__gte=now - timedelta(days=1), notify_error=""
        )
        .exclude(id=video.id)
        .count()
    )
    return sent_today >= settings.EMAILS_PER_RECIPIENT_DAY


def _notify_given_up(video: Video, error: str) -> bool:
    Video.objects.filter(id=video.id).update(
        notify_error=error, notified_at=timezone.now(), notify_claimed_until=None
    )
    logger.warning(
        "email not sent: video %s: %s",
        video.id,
        error,
        extra={
            "event": "email_given_up",
            "video_id": str(video.id),
            "contest": video.contest.slug,
            "reason": error,
        },
    )
    return False


# ---------------------------------------------------------------- moderation and upkeep


def video_set_hidden(*, video: Video, hidden: bool) -> Video:
    """Hide an entry from the public, or show it again.

    Hiding moves its MP4 and poster under the private hidden/ prefix before it returns, so a
    link handed out earlier stops working at once (on local disk and on S3), and CloudFront is
    told to forget its copies; showing moves them back to the same public names. The organizer
    still plays a hidden entry, through links only they get (files.public_media on local disk,
    signed S3 links). Moves are idempotent: trying again after a storage error completes one.
    """
    with transaction.atomic():
        public_list_changed(contest_id=video.contest_id)
        row = Video.objects.select_for_update().get(id=video.id)
        names = _video_files_place(row, public=not hidden)
        Video.objects.filter(id=video.id).update(hidden=hidden, **names)
    # Both ways: a shown file's cached copies, and the "not found" CloudFront keeps for a while.
    public_names = [name.removeprefix(files.HIDDEN_PREFIX) for name in names.values()]
    folder = names.get("assets")
    if folder:  # one wildcard for the folder's files, however many
        public_names[public_names.index(folder.removeprefix(files.HIDDEN_PREFIX))] += "*"
    files.cdn_forget(video.converted.storage, public_names)
    video.hidden = hidden
    for field, name in names.items():
        setattr(video, field, name)
    return video


def video_set_captions(*, video: Video, content: bytes, language: str) -> Video:
    """Set or replace an entry's captions from the bytes of a WebVTT or SRT file, stored as
    WebVTT (videos.captions). Raises ValidationError by field (`file`, `language`)."""
    text, language = captions_check(content=content, language=language)
    return _video_captions_store(video, text, language)


def video_clear_captions(*, video: Video) -> Video:
    return _video_captions_store(video, "", "")


def _video_captions_store(video: Video, text: str, language: str) -> Video:
    with transaction.atomic():
        public_list_changed(contest_id=video.contest_id)  # the API's list shows captions_url
        Video.objects.filter(id=video.id).update(captions=text, captions_language=language)
    video.captions, video.captions_language = text, language
    return video


def video_files_settle(*, video_id) -> bool:
    """Move an entry's files to where its visibility says, when they are not there: for an
    entry hidden while it was converting (the worker stored public files), and for entries
    hidden before hiding moved files (manage.py move_hidden_files). True if it moved any."""
    with transaction.atomic():
        row = Video.objects.select_for_update().filter(id=video_id).first()
        if row is None:
            return False
        current = [row.converted.name, row.poster.name, row.assets]
        if all(name.startswith(files.HIDDEN_PREFIX) == row.hidden for name in current if name):
            return False
        names = _video_files_place(row, public=not row.hidden)
        Video.objects.filter(id=video_id).update(**names)
    logger.info(
        "files of video %s moved (%s)",
        video_id,
        "hidden" if row.hidden else "shown",
        extra={"event": "video_files_moved", "video_id": str(video_id), "hidden": row.hidden},
    )
    return True


def _video_files_place(video: Video, *, public: bool) -> dict[str, str]:
    """Move the entry's MP4, poster and folder to their public names (videos/<id>.mp4,
    entries/<id>/) or under hidden/ (hidden/videos/<id>.mp4); returns the fields' new names."""
    names = {}
    if video.assets:
        public_folder = video.assets.removeprefix(files.HIDDEN_PREFIX)
        hidden_folder = files.HIDDEN_PREFIX + public_folder
        source, target = (
            (hidden_folder, public_folder) if public else (public_folder, hidden_folder)
        )
        files.move_folder(video.converted.storage, source, target, public=public)
        names["assets"] = target
    for field in ("converted", "poster"):
        stored = getattr(video, field)
        if not stored.name:
            continue
        public_name = stored.name.removeprefix(files.HIDDEN_PREFIX)
        hidden_name = files.HIDDEN_PREFIX + public_name
        source, target = (hidden_name, public_name) if public else (public_name, hidden_name)
        if not files.move(stored.storage, source, target, public=public):
            logger.warning(
                "video %s: %s is in storage under neither %s nor %s",
                video.id,
                field,
                source,
                target,
                extra={"event": "video_file_missing", "video_id": str(video.id)},
            )
        names[field] = target
    return names


SWEEP_LOCK = "videos:sweep"


def upkeep_sweep() -> dict[str, int] | None:
    """videos_requeue_stale, and the expiry of resumable uploads nobody finished, once per
    sweep_seconds for the whole cluster.

    Every worker runs a sweeper; the first to take the lock in the shared cache sweeps, the
    others skip this round. Returns the counts, or None when another worker had the turn.
    """
    if not cache.add(SWEEP_LOCK, "1", timeout=max(1, settings.SWEEP_SECONDS - 1)):
        return None
    from videos.resumable import uploads_expire

    return {**videos_requeue_stale(), "uploads_expired": uploads_expire()}


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
    stale_queued = Q(status=Status.QUEUED) & (
        Q(enqueued_at__lt=now - timedelta(seconds=settings.VIDEO_REQUEUE_AFTER_SECONDS))
        | Q(enqueued_at__isnull=True)
    )
    for video_id in expired.values_list("id", flat=True):  # their workers died: queue again
        if Video.objects.filter(
            id=video_id, status=Status.PROCESSING, claimed_until__lt=now
        ).update(status=Status.QUEUED, claimed_until=None, available_at=None, enqueued_at=now):
            video_enqueue(video_id=video_id)
            counts["requeued"] += 1
    for video_id in Video.objects.filter(stale_queued).values_list("id", flat=True):
        Video.objects.filter(id=video_id).update(enqueued_at=now)
        video_enqueue(video_id=video_id)
        counts["requeued"] += 1
    counts["notified"] = _send_unsent_emails(now)
    return counts


def _send_unsent_emails(now) -> int:
    """Emails not sent yet: a worker died while sending, or the mail server refused for a
    while. They are sent here, in the sweeper, not through the job queue, so they never wait
    behind conversions. The first failure ends this round: the server is likely down for the
    others too, and one try per sweep is enough to notice it is back."""
    unsent = (
        selectors.videos_unsent()
        .filter(
            Q(notify_claimed_until__isnull=True) | Q(notify_claimed_until__lt=now),
            # Just finished: its worker is sending it right now, unclaimed for a moment.
            finished_at__lt=now - timedelta(seconds=settings.SWEEP_SECONDS),
        )
        .order_by("finished_at")
    )
    sent = 0
    for video_id in unsent.values_list("id", flat=True):
        try:
            sent += participant_notify(video_id=video_id)
        except Exception as error:  # its pause is set: it is tried again after it
            logger.warning(
                "sweep stops sending emails this round: %s",
                error,
                extra={"event": "email_retry", "video_id": str(video_id)},
            )
            break
    return sent


def video_stored_files(video: Video) -> list[tuple]:
    stored = [
        (field.storage, field.name)
        for field in (video.original, video.converted, video.poster)
        if field
    ]
    if video.assets:
        storage = video.converted.storage
        stored += [(storage, name) for name in files.folder_files(storage, video.assets)]
    return stored


def upload_too_large(content_length: str | None) -> bool:
    """Refuse early, before the body is read, when the request says it is too large."""
    try:
        return int(content_length or 0) > settings.MAX_UPLOAD_BYTES + 1024 * 1024
    except ValueError:
        return False


def too_large_message() -> str:
    return _("The file is larger than %(size)s MB.") % {"size": settings.MAX_UPLOAD_BYTES // 2**20}
