"""The remux path: how soon a file that only needs repackaging is ready after its upload.

Starts the embedded setup (web + worker, folder queue, SQLite), uploads a 30 s 720p H.264/AAC
MP4 (already what browsers play) again and again, one at a time to an idle worker, and times
each from the upload's answer to the moment the worker marked it ready. Its sound is already at
the target loudness (the clip converted once), so the worker copies both streams and measures
the sound in the same ffmpeg run. The baselines, in the same run on the same file: ffmpeg alone
remuxing it with the same arguments, ffmpeg's loudness measure, both in one run, and ffmpeg
alone re-encoding it with the encoding
recipe (what it would cost if it were not remuxed). Then a few uploads of the clip as made,
whose sound is 6 LU under the target: its picture is copied, its sound re-encoded louder.

    .venv/bin/python bench/remux.py [--uploads 20] [--quick]
"""

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import common, service_timing  # noqa: E402
from bench.common import Clip  # noqa: E402
from transcoding import loudness  # noqa: E402
from transcoding.security import ffmpeg_input  # noqa: E402

GOAL_P95 = 0.3  # seconds from the upload's answer to ready
GOAL_SPEEDUP = 20  # at least this many times faster than re-encoding


def bare(
    ffmpeg: str, source: Path, args: list[str], output: Path, runs: int, after: Sequence[str] = ()
) -> float:
    """Median wall seconds of ffmpeg alone. after: a second output (the loudness measure)."""
    times = []
    for _ in range(runs):
        command = [*ffmpeg_input(source), *args, "-f", "mp4", str(output), *after]
        times.append(common.timed(common.ffmpeg_command(ffmpeg, command)).wall)
    return common.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 uploads of a tiny clip")
    args = parser.parse_args()
    clip = Clip("clean", 1280, 720, 30, 30, suffix=".mp4")
    if args.quick:
        clip, args.uploads = Clip("clean", 320, 240, 25, 2, suffix=".mp4"), 3
    ffmpeg = transcoding.find_ffmpeg()
    quiet = common.make_clip(clip)
    source = common.CACHE / f"at-target-{quiet.name}"
    if not source.exists():
        transcoding.convert(quiet, source, ffmpeg=ffmpeg, timeout=600)
    info = transcoding.probe(source)
    remux = transcoding.plan_conversion(info)
    assert remux.remux, "the clip must be one that is only repackaged"
    encode = transcoding.plan_conversion(replace(info, format_name="avi"))  # forced re-encode
    with tempfile.TemporaryDirectory(prefix="videoshare-remux-") as folder:
        output = Path(folder) / "bare.mp4"
        runs = 1 if args.quick else 3
        bare_remux = bare(ffmpeg, source, remux.ffmpeg_args, output, runs)
        bare_encode = bare(ffmpeg, source, encode.ffmpeg_args, output, runs)
        measure = loudness.measure_args(source, channels=info.audio.channels)
        bare_measure = common.median(
            [common.timed(common.ffmpeg_command(ffmpeg, measure)).wall for _ in range(runs)]
        )
        measuring = loudness.measure_output_args(channels=info.audio.channels)
        bare_both = bare(ffmpeg, source, remux.ffmpeg_args, output, runs, after=measuring)
        service, session = service_timing.start(Path(folder))
        try:
            latencies = []
            ids = []
            for n in range(args.uploads):
                video_id, answered = service_timing.upload(service, source, f"r{n}@example.com")
                ready = service_timing.ready_at(service, session, video_id, 300)
                latencies.append(ready - answered)
                ids.append(video_id)
            louder = []
            for n in range(min(args.uploads, 5)):
                video_id, answered = service_timing.upload(service, quiet, f"q{n}@example.com")
                louder.append(service_timing.ready_at(service, session, video_id, 300) - answered)
            inside = service_timing.worker_seconds(service)
        finally:
            service.stop()

    p50, p95 = common.percentile(latencies, 0.5), common.percentile(latencies, 0.95)
    in_worker = [inside[i] for i in ids if i in inside]
    size = source.stat().st_size / 1e6
    print(
        f"ffmpeg {ffmpeg}; {clip.seconds:g} s {clip.width}x{clip.height} H.264/AAC MP4, "
        f"{size:.1f} MB"
    )
    rows = [
        ["ffmpeg alone: remux (same arguments)", f"{bare_remux:.3f}"],
        ["ffmpeg alone: re-encode (the recipe)", f"{bare_encode:.3f}"],
        ["ffmpeg alone: loudness measure", f"{bare_measure:.3f}"],
        ["ffmpeg alone: remux and measure in one run (as the worker)", f"{bare_both:.3f}"],
        [f"upload answered -> ready, p50 of {len(latencies)}", f"{p50:.3f}"],
        [f"upload answered -> ready, p95 of {len(latencies)}", f"{p95:.3f}"],
        ["upload answered -> ready, slowest", f"{max(latencies):.3f}"],
    ]
    if in_worker:
        rows.append(["of which inside the worker's job, p50", f"{common.median(in_worker):.3f}"])
    rows.append(
        [
            f"sound 6 LU quiet: answered -> ready, p50 of {len(louder)}",
            f"{common.median(louder):.3f}",
        ]
    )
    print(common.table(rows, ["measure", "seconds"]))
    speedup = bare_encode / p95
    print(
        f"\nready p95 {p95:.3f} s (goal < {GOAL_P95} s): {'met' if p95 < GOAL_P95 else 'missed'}; "
        f"{speedup:.1f}x faster than re-encoding (goal >= {GOAL_SPEEDUP}x): "
        f"{'met' if speedup >= GOAL_SPEEDUP else 'missed'}"
    )


if __name__ == "__main__":
    main()
