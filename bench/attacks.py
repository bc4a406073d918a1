"""What an attacker's files and floods cost the real service, against an honest upload.

Starts the embedded setup (web + worker), then measures, each against a baseline taken in the
same run:
- how long each media bomb takes to be refused, against an honest upload being accepted;
- how much the web processes' peak memory grows while they refuse the bombs;
- how long a file hiding its length takes to end failed, against an honest clip being ready;
- how long another contest's entry waits behind 30 queued entries, against the same entry
  with the workers idle and against one conversion of a queued entry.

    .venv/bin/python bench/attacks.py [--repeat 3]
"""

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from tests import bombs  # noqa: E402
from tests.e2e.service import Service, open_contest  # noqa: E402
from tests.e2e.test_attacks import upload, web_peak_rss_mib  # noqa: E402
from tests.media import make_clip  # noqa: E402


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def until_status(session, service, video_id: str, status: str) -> None:
    def reached():
        url = f"{service.url}/api/v1/videos/{video_id}"
        return session.get(url, timeout=30).json()["status"] == status

    service.wait_until(reached, 600, f"{video_id} to be {status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="videoshare-bench-attacks-"))
    service = Service(folder / "service").start()
    try:
        owner = open_contest(service.url, "open-call", "Open call")
        other = open_contest(service.url, "other-call", "Other call", email="bruno@example.com")
        honest = make_clip(folder / "honest.avi")
        made = {
            "GIF 16000x16000 (35 B)": bombs.gif_canvas(folder / "canvas.gif"),
            "H.264 16000x16000 (658 B)": bombs.h264_canvas(folder / "canvas.h264"),
            "MKV, 999 streams": bombs.many_streams(folder / "streams.mkv"),
            "MKV, 3 frames over 10 h": bombs.late_frame_mkv(folder / "late.mkv"),
            "MKV, 1000 frames a second": bombs.fast_clip(folder / "fast.mkv"),
        }

        accepted = []
        for n in range(args.repeat):
            seconds, answer = timed(lambda n=n: upload(service, honest, f"h{n}@example.com"))
            assert answer.status_code == 202, answer.text
            accepted.append(seconds)
        baseline = statistics.median(accepted)
        print(f"honest upload accepted (baseline): median {baseline:.3f} s\n")
        print(f"{'bomb':28} {'status':>6} {'refused in s':>13} {'/ baseline':>10}")
        before = web_peak_rss_mib(service)
        for name, path in made.items():
            runs = [timed(lambda p=path: upload(service, p, "mal@example.com")) for _ in range(3)]
            seconds = statistics.median(s for s, _ in runs)
            status = runs[-1][1].status_code
            print(f"{name:28} {status:>6} {seconds:13.3f} {seconds / baseline:10.2f}")
        growth = web_peak_rss_mib(service) - before
        print(f"\nweb processes' peak memory while refusing them: +{growth:.1f} MiB\n")

        for n in range(args.repeat):  # the accepted honest uploads must be done first
            service.wait_until(lambda n=n: service.emails_to(f"h{n}@example.com"), 120, "emails")
        ready, _ = timed(
            lambda: until_status(
                owner, service, upload(service, honest, "ready@example.com").json()["id"], "ready"
            )
        )
        hidden = bombs.late_frame_mkv(folder / "hidden.mkv", hide_duration=True)
        failed, _ = timed(
            lambda: until_status(
                owner, service, upload(service, hidden, "hid@example.com").json()["id"], "failed"
            )
        )
        print(f"honest clip upload → ready (baseline): {ready:.2f} s")
        print(f"10-hour file hiding its length, upload → failed: {failed:.2f} s "
              f"({failed / ready:.2f}x)\n")  # fmt: skip

        lone = make_clip(folder / "lone.flv")
        alone, _ = timed(
            lambda: until_status(
                other,
                service,
                upload(service, lone, "alone@example.com", "other-call").json()["id"],
                "ready",
            )
        )
        crowd = make_clip(folder / "crowd.wmv", seconds=20, size="1280x720")
        one_conversion, _ = timed(
            lambda: transcoding.convert(
                crowd, folder / "crowd.mp4", ffmpeg=transcoding.find_ffmpeg()
            )
        )
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda n: upload(service, crowd, f"c{n}@example.com"), range(30)))
        behind, _ = timed(
            lambda: until_status(
                other,
                service,
                upload(service, lone, "behind@example.com", "other-call").json()["id"],
                "ready",
            )
        )
        queued = owner.get(
            f"{service.url}/api/v1/contests/open-call/videos?status=queued", timeout=30
        ).json()["count"]
        print(f"another contest's entry, upload → ready, workers idle (baseline): {alone:.2f} s")
        print(f"one conversion of a queued entry (ffmpeg alone): {one_conversion:.2f} s")
        print(f"the same entry behind 30 queued ones: {behind:.2f} s "
              f"({behind / alone:.2f}x); {queued} of the 30 still queued then")  # fmt: skip
    finally:
        service.stop()


if __name__ == "__main__":
    main()
