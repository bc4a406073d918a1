"""The encoding recipe against PeerTube's and against the one before it, on clips of every kind.

For each clip (clean, noisy, grainy, a talking head, high motion; 360p to 1080p, 25 to 60 fps,
made by ffmpeg's own sources) each recipe converts the same file with the worker's ffmpeg:
- "ours": what transcoding.plan_conversion() plans today;
- "peertube": PeerTube's default VOD profile: x264 veryfast at its default quality (crf 23),
  16 B-frames (b_strategy 1), a keyframe every 2 s, -maxrate its average bitrate for the
  resolution and frame rate (bits per pixel: 0.15 at 360p, 0.12 at 480p, 0.11 at 720p, 0.10 at
  1080p, times the frame rate; at most 1.3 times the input's bitrate) with twice that as
  -bufsize, AAC at the input's audio bitrate (128k here);
- "before": veryfast, crf 23 and no ceiling, AAC 128k: what made a 73 Mbit/s file of noise.
It reports CPU and wall seconds, bytes, SSIM against the source (and VMAF with --vmaf, from the
first ffmpeg found with libvmaf), the output's video bitrate (average and the worst second)
against the ceiling, and whether "ours" is faster, at least as good and no larger than PeerTube.

    .venv/bin/python bench/encoding.py [--quick] [--seconds 6] [--vmaf] [--grid] [--no-repeat]

Times are the mean of two runs, ours and PeerTube's in turn (one run with --no-repeat).

--grid also tries the neighbours of the chosen preset and quality, to show why they won.
"""

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402

import transcoding  # noqa: E402
from bench import common  # noqa: E402
from bench.common import Clip  # noqa: E402
from transcoding import plan as recipe  # noqa: E402
from transcoding.security import ffmpeg_input  # noqa: E402

FULL = [
    Clip("clean", 1280, 720, 30, 6),
    Clip("noisy", 1280, 720, 30, 6),
    Clip("talking head", 640, 360, 25, 6),
    Clip("talking head", 1920, 1080, 30, 6),
    Clip("grain", 1920, 1080, 25, 6),
    Clip("high motion", 1920, 1080, 60, 6),
]
QUICK = [Clip("clean", 320, 240, 25, 1), Clip("noisy", 320, 240, 25, 1)]

# PeerTube's average bits per pixel by resolution (the short side), and its floor.
PEERTUBE_BITS_PER_PIXEL = ((0, 0.19), (240, 0.17), (360, 0.15), (480, 0.12), (720, 0.11))
PEERTUBE_BITS_PER_PIXEL += ((1080, 0.10), (1440, 0.09), (2160, 0.08))
PEERTUBE_MIN_BITS_PER_PIXEL = 0.02


@dataclass(frozen=True)
class Result:
    clip: str
    recipe: str
    cpu: float
    wall: float
    size: int
    ssim: float
    vmaf: float | None
    average: float  # video bits a second
    peak: float  # the most video bits in any one second
    ceiling: int | None
    seconds: float  # the clip's length

    def within_ceiling(self) -> bool:
        """x264's VBV holds any stretch of T seconds to ceiling x T + bufsize bits."""
        if self.ceiling is None:
            return True
        allowed = self.ceiling * (self.seconds + recipe.BUFSIZE_FACTOR)
        return self.average * self.seconds <= allowed * 1.01  # 1 %: container timing


def peertube_args(info: transcoding.MediaInfo, size: int) -> list[str]:
    video = info.video
    assert video is not None
    width, height = video.display_width, video.display_height
    fps = round(float(video.frame_rate or 30))
    short = min(width, height)
    bits = next(v for side, v in reversed(PEERTUBE_BITS_PER_PIXEL) if short >= side)
    average = int(width * height * fps * bits)
    input_bitrate = size * 8 / (info.duration or 1)
    target = max(
        int(width * height * fps * PEERTUBE_MIN_BITS_PER_PIXEL),
        min(average, int(input_bitrate * 1.3)),
    )
    args = ["-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    args += ["-maxrate", str(target), "-bufsize", str(target * 2), "-b_strategy", "1", "-bf", "16"]
    args += ["-g", str(fps * 2), "-r", str(fps), "-max_muxing_queue_size", "1024"]
    args += ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"]
    return args


def before_args(plan: transcoding.Plan) -> list[str]:
    """The plan with the recipe it replaced: veryfast, crf 23, no ceiling, AAC 128k."""
    args = list(plan.ffmpeg_args)
    cut = args.index("-maxrate")
    del args[cut : cut + 4]  # -maxrate N -bufsize N
    args[args.index("-crf") + 1] = "23"
    if "-b:a" in args:
        args[args.index("-b:a") + 1] = "128k"
    return args


def encode(
    ffmpeg: str, clip: Clip, source: Path, name: str, args: list[str], ceiling, folder, vmaf_ffmpeg
) -> Result:
    output = folder / f"{name}.mp4"
    timing = common.timed(
        common.ffmpeg_command(ffmpeg, [*ffmpeg_input(source), *args, str(output)])
    )
    average, peak = video_bitrates(output)
    result = Result(
        clip=clip.name,
        recipe=name,
        cpu=timing.cpu,
        wall=timing.wall,
        size=output.stat().st_size,
        ssim=common.ssim(ffmpeg, output, source),
        vmaf=common.vmaf(vmaf_ffmpeg, output, source) if vmaf_ffmpeg else None,
        average=average,
        peak=peak,
        ceiling=ceiling,
        seconds=clip.seconds,
    )
    output.unlink()
    return result


def video_bitrates(path: Path) -> tuple[float, float]:
    """The video stream's average bits a second, and the most in any one-second window."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [
            (float(p.pts * p.time_base), p.size * 8)
            for p in container.demux(stream)
            if p.pts is not None and p.size
        ]
    packets.sort()
    times = [t for t, _ in packets]
    duration = max(times[-1] - times[0], 1e-9)
    total = sum(bits for _, bits in packets)
    peak, start, window = 0.0, 0, 0
    for end in range(len(packets)):
        window += packets[end][1]
        while times[end] - times[start] >= 1.0:
            window -= packets[start][1]
            start += 1
        peak = max(peak, window)
    return total / duration, peak if duration >= 1 else total / duration


def grid_recipes() -> list[tuple[str, dict]]:
    """Neighbours of the chosen recipe: preset, quality, ceiling scale."""
    crf = float(recipe.X264_CRF)
    return [
        (f"crf {crf - 0.5:g}", {"X264_CRF": f"{crf - 0.5:g}"}),
        (f"crf {crf + 0.5:g}", {"X264_CRF": f"{crf + 0.5:g}"}),
        ("faster", {"X264_PRESET": "faster"}),
        ("superfast", {"X264_PRESET": "superfast"}),
        ("ceiling x0.9", {"CEILING_BITS_PER_PIXEL": scaled(0.9)}),
        ("ceiling x1.1", {"CEILING_BITS_PER_PIXEL": scaled(1.1)}),
    ]


def scaled(factor: float) -> tuple:
    return tuple((side, value * factor) for side, value in recipe.CEILING_BITS_PER_PIXEL)


def with_recipe(changes: dict, action):
    saved = {name: getattr(recipe, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(recipe, name, value)
        return action()
    finally:
        for name, value in saved.items():
            setattr(recipe, name, value)


def verdict(ours: Result, peertube: Result) -> list[str]:
    checks = {
        "faster (CPU)": ours.cpu < peertube.cpu,
        "SSIM >=": round(ours.ssim, 4) >= round(peertube.ssim, 4),
        "bytes <=": ours.size <= peertube.size,
        "within ceiling": ours.within_ceiling(),
    }
    return [name for name, ok in checks.items() if not ok]


def mbit(bits: float) -> str:
    return f"{bits / 1e6:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two tiny clips: checks it runs")
    parser.add_argument("--seconds", type=float, help="length of each clip (default 6)")
    parser.add_argument("--vmaf", action="store_true", help="VMAF too (slow)")
    parser.add_argument("--grid", action="store_true", help="also the chosen recipe's neighbours")
    parser.add_argument("--no-repeat", dest="repeat", action="store_false", help="one run each")
    args = parser.parse_args()
    if args.quick:
        args.repeat = False
    clips = QUICK if args.quick else FULL
    if args.seconds:
        clips = [replace(clip, seconds=args.seconds) for clip in clips]
    ffmpeg = transcoding.find_ffmpeg()
    vmaf_ffmpeg = None
    if args.vmaf:
        vmaf_ffmpeg = next(
            (f for f in (ffmpeg, common.MAKER) if common.has_filter(f, "libvmaf")), None
        )
    print(f"ffmpeg {ffmpeg}; clips of {clips[0].seconds:g} s, made in {common.CACHE}")
    results: list[Result] = []
    failures = {}
    with tempfile.TemporaryDirectory(prefix="videoshare-encoding-") as folder:
        for clip in clips:
            source = common.make_clip(clip)
            info = transcoding.probe(source)
            plan = transcoding.plan_conversion(info)
            assert not plan.remux
            size = source.stat().st_size
            ceiling = plan.max_video_bitrate
            run = [
                ("ours", plan.ffmpeg_args, ceiling),
                ("peertube", peertube_args(info, size), None),
            ]
            if not args.quick:
                run.append(("before", before_args(plan), None))
            if args.grid:
                for name, changes in grid_recipes():
                    changed = with_recipe(changes, lambda i=info: transcoding.plan_conversion(i))
                    run.append((name, changed.ffmpeg_args, changed.max_video_bitrate))
            done = {}
            # ours and PeerTube's again, in turn: times are the mean of both runs
            order = run + (run[:2] if args.repeat else [])
            for name, ffmpeg_args, limit in order:
                r = encode(
                    ffmpeg, clip, source, name, ffmpeg_args, limit, Path(folder), vmaf_ffmpeg
                )
                if name in done:
                    first = done[name]
                    r = replace(first, cpu=(first.cpu + r.cpu) / 2, wall=(first.wall + r.wall) / 2)
                    results[results.index(first)] = r
                else:
                    results.append(r)
                done[name] = r
                print(
                    f"  {clip.name:24} {name:13} cpu {r.cpu:6.2f} s  wall {r.wall:6.2f} s  "
                    f"{r.size / 1e6:7.2f} MB  SSIM {r.ssim:.5f}  video {mbit(r.average)} Mbit/s",
                    flush=True,
                )
            failures[clip.name] = verdict(done["ours"], done["peertube"])

    header = ["clip", "recipe", "CPU s", "wall s", "MB", "SSIM"]
    header += ["VMAF"] if args.vmaf else []
    header += ["video Mbit/s (avg / worst 1 s)", "ceiling Mbit/s"]
    rows = []
    for r in results:
        row = [r.clip, r.recipe, f"{r.cpu:.2f}", f"{r.wall:.2f}", f"{r.size / 1e6:.2f}"]
        row += [f"{r.ssim:.5f}"] + ([f"{r.vmaf:.2f}" if r.vmaf else "-"] if args.vmaf else [])
        row += [f"{mbit(r.average)} / {mbit(r.peak)}", mbit(r.ceiling) if r.ceiling else "-"]
        rows.append(row)
    print()
    print(common.table(rows, header))
    print()
    by = {(r.clip, r.recipe): r for r in results}
    summary = []
    for clip in dict.fromkeys(r.clip for r in results):
        ours, peertube = by[(clip, "ours")], by[(clip, "peertube")]
        missed = failures[clip]
        summary.append(
            [
                clip,
                f"{ours.cpu / peertube.cpu:.2f}",
                f"{ours.wall / peertube.wall:.2f}",
                f"{ours.size / peertube.size:.3f}",
                f"{ours.ssim - peertube.ssim:+.5f}",
                "yes" if not missed else "no: " + ", ".join(missed),
            ]
        )
    header = ["clip", "CPU ours/PT", "wall ours/PT", "bytes ours/PT", "SSIM ours-PT", "all met"]
    print(common.table(summary, header))
    worst = max(recipe.max_video_bitrate(1920, 1080, 60), recipe.max_video_bitrate(1080, 1920, 60))
    print(f"\nHighest ceiling (1080p at 60 fps and above): {mbit(worst)} Mbit/s of video.")
    met = sum(1 for missed in failures.values() if not missed)
    print(f"Goal met on {met} of {len(failures)} clips.")
    if not math.isfinite(sum(r.ssim for r in results)):
        sys.exit("SSIM could not be measured")


if __name__ == "__main__":
    main()
