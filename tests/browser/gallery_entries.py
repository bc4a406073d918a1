"""Ready entries with real pictures for the gallery's browser test, made inside the running
service's own process (`manage.py shell`), so they land in its database and storage.

Each has a real JPEG poster (a frame of ffmpeg's test picture, landscape, portrait or 4:3) and
thumbnails made from it by the conversion's own code (transcoding.streams.make_thumbnails), as
a converted entry has; only the MP4 is left out, which the gallery never loads.
"""

import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from contests.banners import banner_prepare
from contests.models import Contest
from tests.media import FFMPEG
from transcoding.streams import make_thumbnails
from videos import assets
from videos.models import Video
from videos.public_list import public_list_changed

SIZES = ("1280x720", "720x1280", "640x480")  # landscape, portrait, 4:3
NAMES = (
    ("Ana", "Díaz"), ("Bruno", "Keller"), ("Chen", "Wei"), ("Dolores", "Fuentes Ibarra"),
    ("Emeka", "Obi"), ("Fatima", "Zahra"), ("Gus", "Lee"), ("Hanna", "Virtanen"),
)  # fmt: skip


def frame(path: Path, size: str, seed: int) -> Path:
    """A JPEG frame of ffmpeg's moving test picture, a different moment for each seed."""
    subprocess.run(
        [FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate=25:duration=10", "-ss", str(seed % 10),
         "-frames:v", "1", "-q:v", "3", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def add_banner(slug: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with open(frame(Path(folder, "banner.jpg"), "1500x500", 3), "rb") as handle:
            banner = banner_prepare(File(handle, name="banner.jpg"))
        contest = Contest.objects.get(slug=slug)
        contest.banner.save(banner.name, banner)


def add_entries(slug: str, count: int) -> None:
    """`count` ready entries, older than any entry the contest has, newest first."""
    contest = Contest.objects.get(slug=slug)
    oldest = timezone.now() - timedelta(hours=1)
    with tempfile.TemporaryDirectory() as folder, transaction.atomic():
        for n in range(count):
            size = SIZES[n % len(SIZES)]
            first, last = NAMES[n % len(NAMES)]
            poster = frame(Path(folder, f"poster-{n}.jpg"), size, n)
            made = Path(folder, f"thumbs-{n}")
            made.mkdir()
            width, height = (int(side) for side in size.split("x"))
            video = Video.objects.create(
                contest=contest, first_name=first, last_name=f"{last} {n}",
                email=f"fixture{n}@example.com", message="Shot on a phone" if n % 2 else "",
                original=f"originals/fixture-{n}.avi", status=Video.Status.READY,
                duration=7 + n * 11.3, width=width, height=height,
            )  # fmt: skip
            Video.objects.filter(id=video.id).update(created_at=oldest - timedelta(minutes=n))
            with open(poster, "rb") as handle:
                video.poster.save(f"posters/{video.id}.jpg", File(handle), save=False)
            video.assets = assets.folder_for(video)
            storage = video.poster.storage
            for name in make_thumbnails(poster, made):
                with open(made / name, "rb") as handle:
                    storage.save(video.assets + name, File(handle))
            video.save(update_fields=["poster", "assets"])
        public_list_changed(contest_id=contest.id)
