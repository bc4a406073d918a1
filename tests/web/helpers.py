"""Builders for the page tests: real rows in the test database, real files in storage."""

import io
import re
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.core.files import File
from django.utils import timezone
from PIL import Image

from contests.models import Contest
from tests.media import entry_fields
from videos.models import Video

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def make_contest(owner, slug: str, *, starts_in=-1, ends_in=7, **fields) -> Contest:
    """A contest that starts and ends the given number of days from now."""
    now = timezone.now()
    values = dict(
        owner=owner, name=slug.replace("-", " ").title(), slug=slug,
        starts_at=now + timedelta(days=starts_in), ends_at=now + timedelta(days=ends_in),
    )  # fmt: skip
    values.update(fields)
    return Contest.objects.create(**values)


def ready_video(contest, n=0, **fields) -> Video:
    """A converted, shown entry; its file names are only names unless a test stores them."""
    values = dict(
        contest=contest, first_name=f"P{n}", last_name="Q", email=f"p{n}@example.com",
        original=f"originals/x{n}.avi", converted=f"videos/x{n}.mp4", poster=f"posters/x{n}.jpg",
        status=Video.Status.READY, duration=1.0, width=320, height=240,
    )  # fmt: skip
    values.update(fields)
    return Video.objects.create(**values)


def many_ready_videos(contest, count: int, **fields) -> list[Video]:
    return Video.objects.bulk_create(
        Video(
            contest=contest,
            first_name=f"P{n}",
            last_name="Q",
            email=f"p{n}@example.com",
            original=f"originals/x{n}.avi",
            converted=f"videos/x{n}.mp4",
            poster=f"posters/x{n}.jpg",
            status=Video.Status.READY,
            width=320,
            height=240,
            **fields,
        )  # fmt: skip
        for n in range(count)
    )


def video_with_original(contest, path: Path) -> Video:
    """A queued entry whose original upload is really stored, as the entry form stores it."""
    video = ready_video(
        contest, status=Video.Status.QUEUED, converted="", poster="", original_name=path.name
    )
    with open(path, "rb") as handle:
        video.original.save(f"originals/{video.id}{path.suffix}", File(handle))
    return video


def contest_form(**fields) -> dict:
    """What an organizer types into the contest form."""
    data = {
        "name": "Winter tales",
        "slug": "winter-tales",
        "starts_at": "2030-01-01T10:00",
        "ends_at": "2030-02-01T10:00",
        "prize": "A sled",
        "description": "Snow stories.",
        "rules": "One video each.",
        "max_entries_per_email": "3",  # the field's initial value, which a browser sends
    }
    data.update(fields)
    return data


def png_file(name: str = "banner.png") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 200), (200, 40, 90)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def html(response) -> str:
    return response.content.decode()


entry_form = entry_fields


CONFIRMATION_LINK = re.compile(r"(https?://\S+/accounts/confirm/([^/\s]+)/)")


def confirmation_link(message) -> str:
    """The link of a confirmation email, as the organizer would click it."""
    return CONFIRMATION_LINK.search(message.body)[1]


def confirmation_token(message) -> str:
    return CONFIRMATION_LINK.search(message.body)[2]


def token_issued_days_ago(user, days: float) -> str:
    """A confirmation token as the email would have carried it `days` days ago: the signing
    clock, and only it, is set back while the token is made."""
    from accounts.tokens import confirmation_token

    then = time.time() - days * 86400
    with mock.patch("django.core.signing.time.time", return_value=then):
        return confirmation_token(user)


def big_contest_entries(contest, ready: int = 10_000, others: int = 40) -> None:
    """`ready` ready, shown entries plus `others` hidden and `others` failed ones, which the
    public never sees: a large contest in a few bulk inserts."""
    many_ready_videos(contest, ready)
    many_ready_videos(contest, others, hidden=True)
    Video.objects.bulk_create(
        Video(
            contest=contest,
            first_name=f"F{n}",
            last_name="Q",
            email=f"f{n}@example.com",
            original=f"originals/f{n}.avi",
            status=Video.Status.FAILED,
        )  # fmt: skip
        for n in range(others)
    )
