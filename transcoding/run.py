"""Running ffmpeg: conversion to MP4 and poster frames."""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import ConversionFailed, ConversionTimeout, InvalidMedia
from .plan import Plan, plan_conversion
from .probe import MediaInfo, probe
from .security import ffmpeg_input, file_url

STDERR_TAIL_LINES = 15

# Phrases in ffmpeg's errors that blame this machine or its configuration, not the upload.
# Any other failure of an input that probed fine is the input's: ffmpeg's wording for damaged
# files varies too much between versions and demuxers to list it.
OUR_FAULTS = (
    "No space left on device",
    "Cannot allocate memory",
    "Permission denied",
    "Unrecognized option",
    "Option not found",
    "Unknown encoder",
    "Error opening output",
    "Error splitting the argument list",
)

BAD_INPUT = (
    "The video could not be converted. The file may be damaged or use a format we cannot read."
)
OUR_FAULT = "The video could not be converted because of a problem on our side."
TOO_SLOW = "Converting the video took too long and was stopped."
NO_POSTER = "We could not take a preview picture from the video."


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    ffmpeg: str,
    extra_args: Sequence[str] = (),
    timeout: float,
) -> MediaInfo:
    """Convert `src` to a browser-ready MP4 at `dst` and return the probed output.

    `extra_args` are the operator's output options (e.g. ["-strict", "-2"]); they come after
    the planned ones, so they can override them. `dst` is removed if anything fails.
    """
    info = probe(src)
    plan = plan_conversion(info)
    try:
        transcode(src, dst, plan, ffmpeg=ffmpeg, extra_args=extra_args, timeout=timeout)
        output = _probe_output(dst)
        _verify(output, plan, expect_audio=info.audio is not None)
    except BaseException:
        Path(dst).unlink(missing_ok=True)
        raise
    return output


def transcode(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    plan: Plan,
    *,
    ffmpeg: str,
    extra_args: Sequence[str] = (),
    timeout: float,
) -> None:
    """Run ffmpeg on `src` following `plan`. The input whitelists apply even without probe()."""
    args = [*ffmpeg_input(src), *plan.ffmpeg_args, *extra_args, "-f", "mp4", file_url(dst)]
    run_ffmpeg(ffmpeg, args, timeout=timeout)


def extract_poster(
    video: str | os.PathLike[str],
    poster_jpg: str | os.PathLike[str],
    *,
    ffmpeg: str,
    timeout: float,
) -> None:
    """Write a JPEG poster from a converted video: at 1 s, or the middle of shorter clips."""
    duration = _probe_output(video).duration or 0.0
    at = 1.0 if duration >= 2 else duration / 2
    # Seeking can land past the only frame of a very short clip: ffmpeg 5 then writes nothing,
    # ffmpeg 9 fails. Either way, try again with the first frame.
    with contextlib.suppress(ConversionFailed):
        _poster_at(video, poster_jpg, at, ffmpeg=ffmpeg, timeout=timeout)
    if not _written(poster_jpg):
        _poster_at(video, poster_jpg, 0.0, ffmpeg=ffmpeg, timeout=timeout)
    if not _written(poster_jpg):
        raise ConversionFailed(NO_POSTER, permanent=True, detail="ffmpeg wrote no frame")


def _poster_at(
    video: str | os.PathLike[str],
    poster_jpg: str | os.PathLike[str],
    seconds: float,
    *,
    ffmpeg: str,
    timeout: float,
) -> None:
    args = ["-ss", f"{seconds:.3f}", *ffmpeg_input(video), "-map", "0:V:0", "-frames:v", "1"]
    args += ["-q:v", "2", "-update", "1", "-f", "image2", file_url(poster_jpg)]
    run_ffmpeg(ffmpeg, args, timeout=timeout)


def _written(path: str | os.PathLike[str]) -> bool:
    return os.path.exists(path) and os.path.getsize(path) > 0


def run_ffmpeg(ffmpeg: str, args: Sequence[str], *, timeout: float) -> None:
    """Run ffmpeg with `args`; raise ConversionTimeout or ConversionFailed when it fails."""
    command = [ffmpeg, "-nostdin", "-hide_banner", "-y", "-loglevel", "error", "-nostats", *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # own process group, so a timeout kills everything it started
        preexec_fn=_die_with_parent,
    )
    try:
        _, stderr_bytes = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise ConversionTimeout(TOO_SLOW, detail=f"ffmpeg killed after {timeout:g} s") from None
    except BaseException:
        # E.g. Celery's soft time limit or Ctrl-C: never leave ffmpeg running behind us.
        _kill(process)
        raise
    if process.returncode == 0:
        return
    stderr = stderr_bytes.decode("utf-8", "replace")
    tail = "\n".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
    detail = f"ffmpeg exit {process.returncode}: {tail}"
    # Killed by a signal (e.g. out of memory) is never the input's fault.
    input_fault = process.returncode > 0 and not any(p in stderr for p in OUR_FAULTS)
    raise ConversionFailed(
        BAD_INPUT if input_fault else OUR_FAULT, permanent=input_fault, detail=detail
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _die_with_parent() -> None:
    # Runs in the child before exec: ask Linux to SIGKILL ffmpeg if our worker dies.
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _probe_output(path: str | os.PathLike[str]) -> MediaInfo:
    try:
        return probe(path)
    except InvalidMedia as exc:
        raise ConversionFailed(BAD_INPUT, permanent=True, detail=f"output: {exc}") from exc


def _verify(output: MediaInfo, plan: Plan, *, expect_audio: bool) -> None:
    """Check that ffmpeg produced what browsers play; extra_args could have changed it."""
    video = output.video
    problems = []
    if video is None or not (video.frames > 0 or (output.duration or 0) > 0):
        # No pictures came out: nothing in the input could be decoded.
        raise ConversionFailed(BAD_INPUT, permanent=True, detail="output has no frames")
    if video.codec != "h264" or video.pix_fmt != "yuv420p":
        problems.append(f"video {video.codec}/{video.pix_fmt}")
    if video.width % 2 or video.height % 2:
        problems.append(f"odd size {video.width}x{video.height}")
    if (video.display_width, video.display_height) != (plan.width, plan.height):
        problems.append(f"size {video.display_width}x{video.display_height}")
    if expect_audio and (output.audio is None or output.audio.codec != "aac"):
        problems.append(f"audio {output.audio}")
    if not expect_audio and output.audio is not None:
        problems.append("unexpected audio")
    if problems:
        raise ConversionFailed(OUR_FAULT, permanent=False, detail="output: " + ", ".join(problems))
