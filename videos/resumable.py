"""Resumable uploads: an entry's video sent in pieces, to us (the tus protocol) or, when the
originals are in S3, straight to the bucket (an S3 multipart upload); api/uploads.py.

The fields are checked when the upload begins, as video_check checks them; each piece is
appended to a file on this machine's disk; the last one makes the entry through video_submit,
which checks everything again and the video's content. A connection that drops loses only
the piece under way: the client asks the offset and goes on from there. Uploads nobody
finishes expire PARTIAL_UPLOAD_HOURS after their last piece and are swept by the worker.

Straight to S3, the web tier never sees the bytes: it starts a multipart upload of the entry's
key under originals/, signs a URL for each part of that one upload (PART_URL_SECONDS), and
completes it; the entry is then made by video_submit_stored, and the conversion probes the
file as it probes every upload.
"""

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone

from config import aws
from contests.models import Contest
from videos import services
from videos.captions import captions_check
from videos.models import PartialUpload, Video

logger = logging.getLogger(__name__)

# The entry's texts an upload carries from its start to the entry.
FIELDS = ("first_name", "last_name", "email", "message", "captions_language")
# The captions sent for the entry (videos/captions.py's WebVTT), kept with the fields.
CAPTIONS = "captions_webvtt"
COPY_BYTES = 1024 * 1024
# The pieces the contest page sends: a dropped connection loses at most one, and each is a
# request of its own. S3's smallest multipart part, should the pieces ever go there.
PIECE_BYTES = 5 * 1024 * 1024


class FieldsRefused(Exception):
    """The fields failed a check: `errors` has every field's messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class Finished(Exception):
    """The upload made its entry already: the entry's organizer alone may change it now."""


class SizeMismatch(Exception):
    """The object S3 assembled is not the size declared when the upload began."""


class OffsetMismatch(Exception):
    """A piece that does not start where the received bytes end (tus: 409)."""


class TooLong(Exception):
    """A piece that would take the upload past the length it declared."""


class AssembledUpload(UploadedFile):
    """The received file, as video_submit takes an upload: a local storage moves it."""

    def temporary_file_path(self) -> str:
        return self.file.name


# How long a part's signed URL works: enough to send 5 MiB on a slow link, not to keep.
PART_URL_SECONDS = 15 * 60
# S3 takes at most this many parts in an upload.
MAX_PARTS = 10_000


def available() -> bool:
    """Pieces are kept on this machine's disk: for the setup whose files are on it too."""
    return isinstance(storages["originals"], FileSystemStorage)


def partial_path(upload: PartialUpload) -> Path:
    return settings.PARTIAL_UPLOAD_DIR / str(upload.id)


def upload_expiry():
    return timezone.now() + timedelta(hours=settings.PARTIAL_UPLOAD_HOURS)


def upload_start(*, contest: Contest, fields: dict, file_name: str, length: int) -> PartialUpload:
    """Begin an upload once its fields pass every check made before the video is read.

    Raises SubmissionRejected for a closed contest, FieldsRefused for refused fields."""
    texts = {field: str(fields.get(field) or "") for field in FIELDS}
    errors = services.video_check(contest=contest, size=length, **texts)
    if errors:
        raise FieldsRefused(errors)
    upload = PartialUpload.objects.create(
        contest=contest,
        fields=texts,
        file_name=file_name[:255] or "video",
        length=length,
        expires_at=upload_expiry(),
    )
    partial_path(upload).touch()
    return upload


def upload_append(*, upload_id, offset: int, read) -> PartialUpload:
    """Append the bytes `read(size)` gives to an upload whose received bytes end at `offset`;
    the last piece makes the entry (video_submit, whose SubmissionRejected passes through:
    the upload is then gone)."""
    with transaction.atomic():
        # One piece of an upload at a time: a client retrying while its first try still
        # runs would otherwise write the same bytes twice.
        upload = PartialUpload.objects.select_for_update().get(id=upload_id, video=None)
        if offset != upload.offset:
            raise OffsetMismatch()
        path = partial_path(upload)
        with path.open("r+b") as target:
            target.truncate(offset)  # what a piece cut short left behind
            target.seek(offset)
            while chunk := read(COPY_BYTES):
                offset += len(chunk)
                if offset > upload.length:
                    target.truncate(upload.offset)
                    raise TooLong()
                target.write(chunk)
        upload.offset = offset
        upload.expires_at = upload_expiry()
        upload.save(update_fields=["offset", "expires_at"])
    if upload.offset == upload.length:
        _upload_finish(upload)
    return upload


def _upload_finish(upload: PartialUpload) -> Video:
    path = partial_path(upload)
    try:
        with path.open("rb") as received:
            video = services.video_submit(
                contest=upload.contest,
                upload=AssembledUpload(received, name=upload.file_name, size=upload.length),
                **entry_fields(upload),
            )
    except services.SubmissionRejected:
        upload_cancel(upload=upload)
        raise
    upload.video = video
    upload.save(update_fields=["video"])
    path.unlink(missing_ok=True)  # moved into place by a local storage, copied by another
    return video


def upload_set_captions(*, upload: PartialUpload, content: bytes, language: str) -> None:
    """Captions for the entry an unfinished upload will make, judged as any entry's are (a
    ValidationError by field, `file` and `language`) and kept as WebVTT until then."""
    if upload.video_id is not None:
        raise Finished()
    text, language = captions_check(content=content, language=language)
    upload.fields = {**upload.fields, CAPTIONS: text, "captions_language": language}
    upload.save(update_fields=["fields"])


def entry_fields(upload: PartialUpload) -> dict:
    """What the entry is made of besides its video: the texts, and the captions if any."""
    fields = dict(upload.fields)
    text = fields.pop(CAPTIONS, "")
    if text:
        fields["captions"] = SimpleUploadedFile("captions.vtt", text.encode(), "text/vtt")
    return fields


def upload_cancel(*, upload: PartialUpload) -> None:
    if upload.s3_upload_id:
        aws.s3_multipart_abort(storages["originals"], upload.key, upload.s3_upload_id)
    partial_path(upload).unlink(missing_ok=True)
    upload.delete()


# ---------------------------------------------------------------- straight to S3


def direct_available() -> bool:
    return hasattr(storages["originals"], "bucket_name")


def direct_part_bytes(length: int) -> int:
    """The size of every part but the last: PIECE_BYTES, or more for a file S3 would
    otherwise need over MAX_PARTS parts for."""
    return max(PIECE_BYTES, -(-length // MAX_PARTS))


def direct_start(*, contest: Contest, fields: dict, file_name: str, length: int) -> PartialUpload:
    """Begin an upload the browser sends to S3 itself, once its fields pass every check made
    before the video is read (as upload_start)."""
    # Texts only: captions come apart (upload_set_captions), before the last part.
    texts = {field: str(fields.get(field) or "") for field in FIELDS}
    errors = services.video_check(contest=contest, size=length, **texts)
    if errors:
        raise FieldsRefused(errors)
    upload = PartialUpload(
        contest=contest, fields=texts, file_name=Path(file_name).name[:255] or "video",
        length=length, expires_at=upload_expiry(),
    )  # fmt: skip
    # The entry will have the upload's id, so its original is already at the entry's key.
    upload.key = services.original_key(Video(id=upload.id, original_name=upload.file_name))
    upload.s3_upload_id = aws.s3_multipart_start(storages["originals"], upload.key)
    upload.save()
    return upload


def direct_part_urls(*, upload: PartialUpload, numbers: list[int]) -> dict[int, str]:
    """Signed URLs for these parts of this one upload; a number past its last part is
    refused (ValueError)."""
    last = -(-upload.length // direct_part_bytes(upload.length)) or 1
    if any(not 1 <= number <= last for number in numbers):
        raise ValueError(last)
    storage = storages["originals"]
    return {number: aws.s3_part_url(storage, upload.key, upload.s3_upload_id, number,
                                    seconds=PART_URL_SECONDS) for number in numbers}  # fmt: skip


def direct_parts(*, upload: PartialUpload) -> list[dict]:
    return aws.s3_parts(storages["originals"], upload.key, upload.s3_upload_id)


def direct_complete(*, upload: PartialUpload) -> Video:
    """Join the parts S3 holds and make the entry. An object of another size than the one
    declared and checked is deleted and refused (SizeMismatch)."""
    storage = storages["originals"]
    parts = aws.s3_parts(storage, upload.key, upload.s3_upload_id)
    size = aws.s3_multipart_complete(storage, upload.key, upload.s3_upload_id, parts)
    PartialUpload.objects.filter(id=upload.id).update(s3_upload_id="")  # nothing to abort now
    upload.s3_upload_id = ""
    if size != upload.length:
        storage.delete(upload.key)
        upload_cancel(upload=upload)
        raise SizeMismatch(size)
    try:
        video = services.video_submit_stored(
            contest=upload.contest, video_id=upload.id, key=upload.key,
            name=upload.file_name, size=size, **entry_fields(upload),
        )  # fmt: skip
    except services.SubmissionRejected:
        upload_cancel(upload=upload)  # video_submit_stored deleted the object
        raise
    upload.delete()  # the entry has its id now
    return video


def uploads_expire(*, now=None) -> int:
    """Delete uploads past their expiry and their bytes; the number deleted."""
    expired = PartialUpload.objects.filter(expires_at__lte=now or timezone.now())
    count = 0
    for upload in expired.iterator():
        upload_cancel(upload=upload)
        count += 1
    if count:
        logger.info(
            "%s partial uploads expired", count, extra={"event": "uploads_expired", "count": count}
        )
    return count
