"""What the benchmarks share: test clips made from ffmpeg's own sources, timing a process by the
kernel's accounting, picture quality against the source, and the embedded service.

Clips are made with the static ffmpeg of the imageio-ffmpeg wheel (it has every lavfi source
and encoder used here) and kept in var/bench/clips, named by what made them, so a second run
reuses them. Everything measured runs with the ffmpeg the worker uses (transcoding.find_ffmpeg).
"""

import hashlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.media import FFMPEG as MAKER  # noqa: E402

CACHE = ROOT / "var" / "bench" / "clips"

# Stopped from outside (a CI time limit, kill): unwind, so that the services a benchmark
# started are stopped by its finally blocks.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

# The pictures, as lavfi graphs of {w}, {h}, {r} (frame rate) and {still} (a detailed picture).
PICTURES = {
    # ffmpeg's test card: flat colours and sharp edges, compresses very well
    "clean": "testsrc2=size={w}x{h}:rate={r}",
    # the same under heavy noise that changes every frame: no quality setting compresses it
    "noisy": "testsrc2=size={w}x{h}:rate={r},noise=alls=60:allf=t",
    # light sensor grain, as a phone in a dim room records it
    "grain": "testsrc2=size={w}x{h}:rate={r},noise=alls=20:allf=t",
    # a still background, a small moving subject in the middle, light grain
    "talking head": (
        "gradients=size={w}x{h}:rate={r}:speed=0.01[bg];"
        "testsrc2=size={sw}x{sh}:rate={r}[fg];"
        "[bg][fg]overlay=x={sx}+{w}/16*sin(t):y={sy}+{h}/36*sin(3*t),noise=alls=8:allf=t"
    ),
    # a fast camera pan over a detailed picture (a Mandelbrot set), light grain
    "high motion": (
        "movie={still},loop=loop=-1:size=1,setpts=N/({r}*TB),fps={r},"
        "crop={w}:{h}:x='(iw-{w})/2*(1+sin(t*0.9))':y='(ih-{h})/2*(1+sin(t*0.7))',"
        "noise=alls=6:allf=t"
    ),
}


@dataclass(frozen=True)
class Clip:
    picture: str  # a key of PICTURES
    width: int
    height: int
    rate: int
    seconds: float
    suffix: str = ".avi"  # the upload's container: MPEG-4 Part 2 + MP3 in AVI is re-encoded
    audio: bool = True

    @property
    def name(self) -> str:
        return f"{self.picture} {self.height}p{self.rate}"


# What each container holds; the source quality is high, so the encoder under test decides.
CODECS = {
    ".avi": ["-c:v", "mpeg4", "-q:v", "3", "-c:a", "libmp3lame", "-b:a", "128k"],
    ".wmv": ["-c:v", "wmv2", "-q:v", "3", "-c:a", "wmav2", "-b:a", "128k"],
    ".flv": ["-c:v", "flv", "-q:v", "3", "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100"],
    # Already what browsers play: remuxed, never re-encoded.
    ".mp4": [
        *["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"],
        *["-c:a", "aac", "-b:a", "128k"],
    ],
}


def make_clip(clip: Clip) -> Path:
    """The clip's file, made on first use."""
    w, h, r = clip.width, clip.height, clip.rate
    graph = PICTURES[clip.picture].format(
        w=w,
        h=h,
        r=r,
        sw=w // 3 // 2 * 2,
        sh=h // 3 // 2 * 2,
        sx=w // 3,
        sy=h // 3,
        still=_still() if "{still}" in PICTURES[clip.picture] else "",
    )
    args = ["-filter_complex", f"{graph},format=yuv420p[v]", "-map", "[v]"]
    if clip.audio:
        tone = f"sine=frequency=440:sample_rate=44100:duration={clip.seconds}"
        args = ["-f", "lavfi", "-i", tone, *args, "-map", "0:a"]
    args += ["-t", f"{clip.seconds}", *CODECS[clip.suffix]]
    if not clip.audio:
        args += ["-an"]
    key = hashlib.sha256(repr(args).encode()).hexdigest()[:10]
    path = CACHE / f"{clip.picture.replace(' ', '_')}-{w}x{h}-{r}-{key}{clip.suffix}"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_name("making-" + path.name)
        _make([*args, str(partial)])
        partial.rename(path)
    return path


def _still() -> str:
    path = CACHE / "mandelbrot-3840x2160.png"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        source = "mandelbrot=size=3840x2160:start_scale=0.5:maxiter=200"
        _make(["-f", "lavfi", "-i", source, "-frames:v", "1", str(path)])
    # A filter argument: escape what the filtergraph parser would read.
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def _make(args: Sequence[str]) -> None:
    command = [MAKER, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(command, check=True, timeout=1800)


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its children


def timed(command: Sequence[str]) -> Timing:
    """Run a command to its end; wall time and the CPU time the kernel counted for it."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {process.returncode}: {errors[-2000:]}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def ffmpeg_command(ffmpeg: str, args: Sequence[str]) -> list[str]:
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]


def ssim(ffmpeg: str, output: Path, source: Path) -> float:
    """ffmpeg's SSIM (all planes) of `output` against `source`, frame by frame."""
    graph = "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]ssim"
    command = [ffmpeg, "-nostdin", "-hide_banner", "-i", str(output), "-i", str(source)]
    result = subprocess.run(
        [*command, "-lavfi", graph, "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return float(re.findall(r"All:([0-9.]+)", result.stderr)[-1])


def has_filter(ffmpeg: str, name: str) -> bool:
    result = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True)
    return re.search(rf"^\s*\S+\s+{name}\s", result.stdout, re.MULTILINE) is not None


def vmaf(ffmpeg: str, output: Path, source: Path) -> float | None:
    """VMAF (libvmaf's default model) of `output` against `source`, if this ffmpeg has it."""
    if not has_filter(ffmpeg, "libvmaf"):
        return None
    graph = (
        "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];"
        f"[a][b]libvmaf=n_threads={os.cpu_count() or 1}"
    )
    command = [ffmpeg, "-nostdin", "-hide_banner", "-i", str(output), "-i", str(source)]
    result = subprocess.run(
        [*command, "-lavfi", graph, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    found = re.findall(r"VMAF score: ([0-9.]+)", result.stderr)
    return float(found[-1]) if found else None


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table, ready to paste into docs/PERFORMANCE.md."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
