"""How long a participant waits: upload of a 30 s 720p clip until the "ready" email is written.

Starts the embedded setup (gunicorn + Celery worker, folder queue, SQLite) on a free port,
uploads one FLV, one WMV and one AVI, one at a time, and times each from the start of the
upload to the moment its .eml file appears. The baseline, measured in the same run on the same
file, is ffmpeg alone doing the same conversion: the ratio is what the product adds on top.

    .venv/bin/python bench/upload_to_email.py [--seconds 30] [--size 1280x720]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import service_timing  # noqa: E402
from tests.e2e.service import Service, open_contest  # noqa: E402
from tests.media import make_clip  # noqa: E402


def ffmpeg_alone(clip: Path, folder: Path) -> float:
    started = time.perf_counter()
    transcoding.convert(
        clip, folder / f"{clip.stem}-alone.mp4", ffmpeg=transcoding.find_ffmpeg(), timeout=600
    )
    return time.perf_counter() - started


def upload_to_email(service: Service, clip: Path, email: str) -> float:
    started = time.perf_counter()
    service_timing.upload(service, clip, email)
    service.wait_until(lambda: service.emails_to(email), 600, f"the email for {clip.name}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="videoshare-bench-"))
    service = Service(folder / "service").start()
    try:
        open_contest(service.url, "bench", "Bench")
        print(f"{args.seconds} s {args.size} clips, ffmpeg {transcoding.find_ffmpeg()}")
        print(f"{'format':8} {'MB':>6} {'ffmpeg alone s':>15} {'upload→email s':>15} {'ratio':>6}")
        for suffix in (".flv", ".wmv", ".avi"):
            clip = make_clip(
                folder / f"clip{suffix}", seconds=args.seconds, size=args.size, rate=30
            )
            alone = ffmpeg_alone(clip, folder)
            total = upload_to_email(service, clip, f"bench{suffix[1:]}@example.com")
            size_mb = clip.stat().st_size / 1e6
            print(f"{suffix[1:]:8} {size_mb:6.1f} {alone:15.2f} {total:15.2f} {total / alone:6.2f}")
    finally:
        service.stop()


if __name__ == "__main__":
    main()
