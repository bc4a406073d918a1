"""What the worker adds to ffmpeg: from the upload's answer to "ready", against ffmpeg alone.

Starts the embedded setup (web + worker, folder queue, SQLite) and, for a 30 s 720p AVI, WMV
and FLV, times in turn (bare, worker, bare, worker...):
- bare: ffmpeg alone, run with exactly the arguments the worker gives it for that file (the
  loudness measure, then the same plan, gain, threads and limits; transcoding.run's
  transcode_args), on the same file;
- worker: the upload's answer until the worker marked the entry ready (probe, conversion,
  poster, checks, storage, database), to an idle worker.

    .venv/bin/python bench/worker_overhead.py [--repeat 3] [--quick]
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import common, service_timing  # noqa: E402
from bench.common import Clip  # noqa: E402
from config import loader  # noqa: E402
from transcoding import loudness  # noqa: E402
from transcoding.run import (  # noqa: E402
    FFMPEG_OPTIONS,
    loudness_filter,
    measure_loudness,
    transcode_args,
)

GOAL = 1.05  # worker / bare


def bare_commands(ffmpeg: str, source: Path, output: Path) -> list[list[str]]:
    """ffmpeg as the worker runs it for `source`, with the default configuration: the sound's
    loudness measure, then the conversion with the same plan (and gain); a remux measures in
    its own run, and runs again only when the sound needs a gain."""
    threads = loader.ffmpeg_threads(loader.DEFAULTS)
    info = transcoding.probe(source)
    budget, limits = transcoding.Budget(), transcoding.MediaLimits()
    channels = info.audio.channels

    def measure(chain: str | None = None) -> loudness.Loudness | None:
        return measure_loudness(
            source, channels=channels, chain=chain, ffmpeg=ffmpeg, timeout=600, budget=budget
        )

    info_level = [ffmpeg, *FFMPEG_OPTIONS, "-loglevel", "info"]
    audio_filter = loudness_filter(measure(), channels=channels, measure=measure)
    plan = transcoding.plan_conversion(info, threads=threads)
    if plan.remux:
        args = transcode_args(source, output, plan, limits=limits, budget=budget)
        commands = [[*info_level, *args, *loudness.measure_output_args(channels=channels)]]
    else:
        commands = [[*info_level, *loudness.measure_args(source, channels=channels)]]
    if audio_filter is not None or not plan.remux:
        plan = transcoding.plan_conversion(info, threads=threads, audio_filter=audio_filter)
        args = transcode_args(source, output, plan, limits=limits, budget=budget)
        commands.append([ffmpeg, *FFMPEG_OPTIONS, *args])
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of tiny clips")
    args = parser.parse_args()
    size, seconds = ((320, 240), 2) if args.quick else ((1280, 720), 30)
    repeat = 1 if args.quick else args.repeat
    clips = [Clip("clean", *size, 30, seconds, suffix=s) for s in (".avi", ".wmv", ".flv")]
    ffmpeg = transcoding.find_ffmpeg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="videoshare-overhead-") as folder:
        service, session = service_timing.start(Path(folder))
        try:
            for clip in clips:
                source = common.make_clip(clip)
                commands = bare_commands(ffmpeg, source, Path(folder) / "bare.mp4")
                bare, worker = [], []
                for n in range(repeat):
                    bare.append(sum(common.timed(command).wall for command in commands))
                    email = f"o{clip.suffix[1:]}{n}@example.com"
                    video_id, answered = service_timing.upload(service, source, email)
                    ready = service_timing.ready_at(service, session, video_id, 600)
                    worker.append(ready - answered)
                b, w = common.median(bare), common.median(worker)
                rows.append(
                    [
                        clip.suffix[1:],
                        f"{source.stat().st_size / 1e6:.1f}",
                        f"{b:.2f}",
                        f"{w:.2f}",
                        f"{w / b:.3f}",
                        "met" if w / b <= GOAL else "missed",
                    ]
                )
                print(f"  {clip.suffix[1:]}: bare {bare}, worker {worker}", flush=True)
        finally:
            service.stop()
    print(f"\nffmpeg {ffmpeg}; {seconds} s {size[0]}x{size[1]} clips, median of {repeat}")
    header = ["format", "MB", "ffmpeg alone s", "answer -> ready s", "ratio", f"<= {GOAL}"]
    print(common.table(rows, header))


if __name__ == "__main__":
    main()
