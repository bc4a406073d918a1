"""What each step of the media pipeline adds to the plain conversion of an entry.

On a 30 s 720p30 upload with sound, each step is timed against its baseline in the same run,
in pairs (baseline, step, baseline, step...), so a machine that slows down mid-run moves both:

- loudness: the conversion measuring and normalizing the sound (EBU R128), against the same
  conversion leaving the sound as it came; for an AVI (re-encoded anyway) and for an MP4 that
  is otherwise only repackaged (its sound is then re-encoded to change its level);
- deinterlace: an interlaced camcorder file (MPEG-2, 50 fields a second) converted with
  bwdif, against the same conversion without it;
- streams: the HLS stream (the MP4 packaged, a 360-line rendition, the storyboard) made from
  the converted MP4, against the conversion that made that MP4; and without the 360 lines;
- thumbnails: the two gallery thumbnails from the poster, against the conversion.

    .venv/bin/python bench/media_steps.py [--runs 3] [--quick]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import common  # noqa: E402
from bench.common import Clip  # noqa: E402
from transcoding import streams  # noqa: E402
from transcoding.plan import DEINTERLACE  # noqa: E402
from transcoding.security import ffmpeg_input  # noqa: E402

TIMEOUT = 600


def seconds(work) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def paired(baseline, step, runs: int) -> tuple[float, float, float]:
    """Median seconds of the baseline and of the step, and the median of the pairs' ratios."""
    base_times, step_times = [], []
    for _ in range(runs):
        base_times.append(seconds(baseline))
        step_times.append(seconds(step))
    ratios = [s / b for b, s in zip(base_times, step_times, strict=True)]
    return common.median(base_times), common.median(step_times), common.median(ratios)


def interlaced_clip(seconds_long: float, folder: Path) -> Path:
    """Two fields a frame at 50 fields a second, as a PAL camcorder records, with sound."""
    path = folder / "camcorder.mpg"
    common._make(
        [
            *["-f", "lavfi", "-i", f"testsrc2=size=720x576:rate=50:duration={seconds_long}"],
            *["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds_long}"],
            *["-vf", "tinterlace=interleave_top", "-c:v", "mpeg2video", "-b:v", "8M"],
            *["-flags", "+ilme+ildct", "-c:a", "mp2", str(path)],
        ]
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 2 s clip, one run")
    args = parser.parse_args()
    length = 2 if args.quick else 30
    runs = 1 if args.quick else args.runs
    ffmpeg = transcoding.find_ffmpeg()
    avi = common.make_clip(Clip("talking head", 1280, 720, 30, length))
    mp4 = common.make_clip(Clip("talking head", 1280, 720, 30, length, suffix=".mp4"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="videoshare-media-steps-") as folder:
        work = Path(folder)
        output, poster = work / "out.mp4", work / "poster.jpg"

        def convert(source: Path, *, loudness: bool = True) -> None:
            transcoding.convert(
                source,
                output,
                poster=poster,
                ffmpeg=ffmpeg,
                timeout=TIMEOUT,
                normalize_loudness=loudness,
            )

        for name, source in (("AVI, re-encoded", avi), ("MP4, repackaged", mp4)):
            base, step, ratio = paired(
                lambda s=source: convert(s, loudness=False), lambda s=source: convert(s), runs
            )
            rows.append((f"loudness ({name})", f"{base:.2f}", f"{step:.2f}", f"{ratio:.2f}"))

        camcorder = interlaced_clip(length, work)
        plan = transcoding.plan_conversion(transcoding.probe(camcorder))
        assert DEINTERLACE in " ".join(plan.ffmpeg_args), "the clip must be deinterlaced"
        without = [arg.replace(f"{DEINTERLACE},", "") for arg in plan.ffmpeg_args]

        def encode(ffmpeg_args: list[str]) -> None:
            command = [*ffmpeg_input(camcorder), *ffmpeg_args]
            common.timed(common.ffmpeg_command(ffmpeg, [*command, "-f", "mp4", str(output)]))

        base, step, ratio = paired(lambda: encode(without), lambda: encode(plan.ffmpeg_args), runs)
        rows.append(("deinterlace (576i50 MPEG-2)", f"{base:.2f}", f"{step:.2f}", f"{ratio:.2f}"))

        converted, still = work / "converted.mp4", work / "still.jpg"
        transcoding.convert(avi, converted, poster=still, ffmpeg=ffmpeg, timeout=TIMEOUT)

        def package(small_height: int) -> None:
            made = work / f"streams-{small_height}"
            made.mkdir(exist_ok=True)
            streams.make_streams(
                converted, made, ffmpeg=ffmpeg, timeout=TIMEOUT, small_height=small_height
            )

        for name, height in (("HLS + 360p + storyboard", 360), ("HLS + storyboard", 100000)):
            base, step, ratio = paired(lambda: convert(avi), lambda h=height: package(h), runs)
            rows.append((f"{name}", f"{base:.2f}", f"{step:.2f}", f"{ratio:.2f}"))

        thumbs = work / "thumbs"
        thumbs.mkdir()
        base, step, ratio = paired(
            lambda: convert(avi), lambda: streams.make_thumbnails(still, thumbs), runs
        )
        rows.append(("thumbnails (320, 640)", f"{base:.2f}", f"{step:.3f}", f"{ratio:.3f}"))

    print(f"\n{length} s 1280x720 30 fps with sound, {runs} pairs, median seconds:\n")
    header = ("step", "baseline s", "with the step s", "step / baseline")
    print(common.table(rows, header))
    print(
        "\nloudness and deinterlace: the whole conversion with the step against without it;"
        "\nstreams and thumbnails: the step alone against the conversion before it."
    )


if __name__ == "__main__":
    main()
