import uuid

from django.core.files.storage import storages
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def originals_storage():
    return storages["originals"]


def mailbox_key(address: str) -> str:
    """One key per inbox: "Ana+contest@Example.com" and "ana@example.com" are one mailbox."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


class Video(models.Model):
    """One entry in a contest: the upload as received and, once converted, the MP4 and poster."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class StreamsStatus(models.TextChoices):
        NONE = "", _("None")  # converted before streams were made
        PENDING = "pending", _("Pending")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="videos")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    # The address as a mailbox: lower case, without a "+tag", so limits count one inbox once.
    email_key = models.CharField(max_length=254, blank=True, default="")
    message = models.TextField(blank=True, max_length=2000)
    language = models.CharField(max_length=10, default="en")  # of the page used: emails speak it

    original = models.FileField(storage=originals_storage, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    original_size = models.BigIntegerField(default=0)
    original_format = models.CharField(max_length=100, blank=True)
    converted = models.FileField(max_length=300, blank=True)
    poster = models.FileField(max_length=300, blank=True)
    # The folder (videos.assets) of what is made beside the MP4: thumbnails, made before the
    # entry is ready, then the HLS stream and the storyboard, made after it (streams_status).
    # "entries/<id>/", or "hidden/entries/<id>/" while hidden; empty before it is converted.
    assets = models.CharField(max_length=300, blank=True)
    streams_status = models.CharField(
        max_length=20, choices=StreamsStatus.choices, blank=True, default=""
    )
    streams_attempts = models.PositiveSmallIntegerField(default=0)
    streams_enqueued_at = models.DateTimeField(null=True, blank=True)
    # The original's integrated loudness (EBU R128, LUFS); None without sound or before this
    # was measured. The MP4's sound is brought to transcoding.loudness.TARGET_LUFS.
    loudness = models.FloatField(null=True, blank=True)
    # Captions as WebVTT (converted from SRT when sent as SRT; videos.captions), and their
    # language (a BCP 47 tag such as "en" or "es"); empty: none.
    captions = models.TextField(blank=True, default="")
    captions_language = models.CharField(max_length=35, blank=True, default="")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)

    # Job bookkeeping: a worker claims the row until claimed_until; attempts bound the retries.
    attempts = models.PositiveSmallIntegerField(default=0)
    timeouts = models.PositiveSmallIntegerField(default=0)  # attempts that hit the time limit
    claimed_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)  # not claimed before (backoff)
    started_at = models.DateTimeField(null=True, blank=True)  # last claim: fair turns by contest
    finished_at = models.DateTimeField(null=True, blank=True)
    # A failure on our side the entry is waiting out (a full disk, storage down): for the
    # operator, never the participant. Cleared when the entry is converted.
    last_error = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # the email went out (or given up)
    notify_claimed_until = models.DateTimeField(null=True, blank=True)  # being sent until then
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    notify_error = models.TextField(blank=True)  # why the email could not be sent
    notify_last_error = models.TextField(blank=True)  # the mail server's last temporary refusal
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The lists of a contest's entries, newest first (videos.selectors): each is read
            # in the order of its index, a page at a time, never sorted whole. The public list
            # (ready, shown) and the organizer's by status; `hidden` is last because SQLite
            # and MySQL match no index to "NOT hidden", only check it while scanning.
            models.Index(
                fields=["contest", "status", "-created_at", "-id", "hidden"],
                name="video_list_by_status",
            ),
            # The organizer's list of every entry.
            models.Index(fields=["contest", "-created_at", "-id"], name="video_list"),
            models.Index(fields=["status", "claimed_until"]),
            models.Index(fields=["status", "contest"]),
            models.Index(fields=["contest", "email_key"]),
            models.Index(fields=["email_key", "notified_at"]),
            models.Index(fields=["streams_status", "streams_enqueued_at"]),  # the stream threads'
        ]

    def __str__(self) -> str:
        return f"{self.participant_name} in {self.contest_id}"

    def get_absolute_url(self) -> str:
        return reverse("video", args=[self.contest.slug, self.id])

    @property
    def participant_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.READY and not self.hidden


class PartialUpload(models.Model):
    """A video being sent in pieces (resumable uploads, the tus protocol): the entry's checked
    fields wait here with the bytes received so far, until the last piece makes the entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="+")
    # The entry's texts as checked when the upload began: names, email, message, language.
    fields = models.JSONField()
    file_name = models.CharField(max_length=255)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    # Sent by the browser straight to S3 (a multipart upload of this key), not through us.
    key = models.CharField(max_length=300, blank=True, default="")
    s3_upload_id = models.CharField(max_length=1024, blank=True, default="")
    # The entry made from it, once complete (a client told nothing of it may ask again).
    video = models.ForeignKey(Video, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.offset} of {self.length} bytes)"
