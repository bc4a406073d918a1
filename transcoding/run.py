"""Running ffmpeg: conversion to MP4 and poster frames."""

import contextlib
import ctypes
import math
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from . import loudness
from .errors import ConversionFailed, ConversionTimeout, InvalidMedia
from .isolated import probe_isolated
from .limits import Budget, LimitExceeded, MediaLimits, OutputTooLarge, lower_rlimit
from .plan import Plan, plan_conversion
from .probe import MediaInfo, probe
from .security import ffmpeg_input, file_url

T = TypeVar("T")

STDERR_TAIL_LINES = 15  # in error details
STDERR_KEPT_BYTES = 64 * 1024  # searched for the phrases below

# ffmpeg could not even start: this machine or its configuration is at fault.
CANNOT_START = ("error while loading shared libraries",)
# libav refused the input for exceeding the limits we gave it.
OVER_LIMITS = ("exceeds specified max pixel count", "exceeds max_streams")
# How an allocation that failed under the memory limit shows; ffmpeg's wording varies with
# where it failed (x264 says "malloc of size N failed"; a thread that cannot get its stack is
# EAGAIN). ffmpeg 9 may then print the error in a loop, or wait forever, instead of exiting:
# under a memory limit, the first of these stops it. Other failures under the limit read like
# damaged input, which they then count as.
OUT_OF_MEMORY = (
    "Cannot allocate memory",
    "malloc of size",
    "out of memory",
    "Out of memory",
    "Resource temporarily unavailable",
)
# Phrases in ffmpeg's errors that blame this machine or its configuration, not the upload.
# Any other failure of an input that probed fine is the input's: ffmpeg's wording for damaged
# files varies too much between versions and demuxers to list it.
OUR_FAULTS = (
    "No space left on device",
    "Cannot allocate memory",  # without a memory limit: the machine ran out
    "Permission denied",
    "Unrecognized option",
    "Option not found",
    "Unknown encoder",
    "Error opening output",
    "Error splitting the argument list",
)
# Killed from outside (the kernel's out-of-memory killer, a shutdown): try again later. Any
# other signal is a crash, which happens again on the same input (a failed allocation under
# the memory limit that nothing checked, or a bug the file triggers).
OUTSIDE_SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

# A converted file may be this much longer than the limit (rounding, audio priming).
OUTPUT_DURATION_MARGIN = 1.0
# Our own converted files are only checked for their length.
UNLIMITED = MediaLimits(
    max_duration=math.inf,
    max_side=2**31 - 1,
    max_pixels=2**31 - 1,
    max_streams=2**31 - 2,
    max_frame_rate=math.inf,
)

BAD_INPUT = (
    "The video could not be converted. The file may be damaged or use a format we cannot read."
)
DAMAGED = (
    "Most of the video could not be read: the file is damaged or incomplete after its beginning."
)
# An output shorter than the input announces, by more than this share and MIN_SHORTFALL
# seconds, is not published: the rest of the file could not be decoded. (A file that states
# more bytes than it has is refused before, by probe(): TRUNCATED.)
DAMAGED_SHARE = 0.5
MIN_SHORTFALL = 1.0  # seconds
OUR_FAULT = "The video could not be converted because of a problem on our side."
TOO_SLOW = "Converting the video took too long and was stopped."
NO_POSTER = "We could not take a preview picture from the video."
NEEDS_MEMORY = "The video needs more memory than this site allows to convert it."
# Seconds a poster taken from the converted video may take.
POSTER_TIMEOUT = 120.0


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    ffmpeg: str,
    poster: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float | None = None,
    limits: MediaLimits | None = None,
    budget: Budget | None = None,
    threads: int = 0,
    warm_probe: bool = False,
    normalize_loudness: bool = True,
) -> MediaInfo:
    """Convert `src` to a browser-ready MP4 at `dst` and return the probed output.

    The input is probed in a bounded child process and refused (LimitExceeded) beyond
    `limits`; ffmpeg then runs within `budget`: its memory, the output's size, and a time limit
    of budget.timeout_for(the input's duration) unless `timeout` is given. The output is checked
    too: a file whose header hid its length fails with LimitExceeded("duration").
    `extra_args` are the operator's output options (e.g. ["-strict", "-2"]); they come after
    the planned ones, so they can override them. `dst` (and `poster`) are removed if anything
    fails.

    poster: also write a JPEG poster there, of the output's size: the source's first keyframe
    from 1 s on, taken by the probe's bounded child right after reading the headers (no
    ffmpeg run of its own), else the output's first frame.
    threads: libx264's threads (0: its own choice). warm_probe: probe through this process's
    probe server (probe_isolated(warm=True)), for a long-lived worker.
    normalize_loudness: measure the sound and bring it to loudness.TARGET_LUFS (the measuring
    counts in the time limit); the returned info's source_loudness is what was measured.
    """
    limits = limits or MediaLimits()
    budget = budget or Budget()
    info = probe_isolated(
        src,
        limits=limits,
        memory_bytes=budget.probe_memory_bytes,
        seconds=budget.probe_seconds,
        warm=warm_probe,
        poster=poster,
    )
    if timeout is None:
        # A length the headers do not tell may be any accepted one.
        duration = info.duration if info.duration is not None else limits.max_duration
        timeout = budget.timeout_for(duration)
    deadline = time.monotonic() + timeout  # one time limit for the whole conversion
    channels = info.audio.channels if info.audio is not None else 0

    def within_time(step: str, call: Callable[[float], T]) -> T:
        """call(seconds left of the conversion's time limit), stopped when they run out."""
        left = deadline - time.monotonic()
        limit = f"the conversion's time limit of {timeout:g} s"
        if left <= 0:
            raise ConversionTimeout(TOO_SLOW, detail=f"{step}: nothing left of {limit}")
        try:
            return call(left)
        except ConversionTimeout as stopped:
            detail = f"{step}: over {limit} ({stopped.detail})"
            raise ConversionTimeout(TOO_SLOW, detail=detail) from None

    def measure(chain: str | None = None) -> loudness.Loudness | None:
        return within_time(
            "the loudness measure",
            lambda left: measure_loudness(
                src, channels=channels, chain=chain, ffmpeg=ffmpeg, timeout=left, budget=budget
            ),
        )

    def run(plan: Plan, *, measuring: bool = False) -> str:
        return within_time(
            "the conversion",
            lambda left: transcode(
                src,
                dst,
                plan,
                ffmpeg=ffmpeg,
                extra_args=extra_args,
                timeout=left,
                limits=limits,
                budget=budget,
                measure_channels=channels if measuring else None,
            ),
        )

    plan = plan_conversion(info, threads=threads)
    measured = None
    normalizing = normalize_loudness and info.audio is not None
    # A remux measures the sound in its own ffmpeg run and is done when the sound is at the
    # target; only with a gain to apply does it run again, re-encoding the sound. Anything
    # re-encoded measures first: the gain applies to the whole file, so it is known before.
    measure_while_copying = normalizing and plan.remux
    if normalizing and not measure_while_copying:
        measured = measure()
        audio_filter = loudness_filter(measured, channels=channels, measure=measure)
        plan = plan_conversion(info, threads=threads, audio_filter=audio_filter)
    try:
        log = run(plan, measuring=measure_while_copying)
        if measure_while_copying:
            measured = loudness.parse_summary(log)
            audio_filter = loudness_filter(measured, channels=channels, measure=measure)
            if audio_filter is not None:
                plan = plan_conversion(info, threads=threads, audio_filter=audio_filter)
                run(plan)
        output = _probe_output(dst, max_duration=limits.max_duration)
        _check_length(info, output)  # first: a damaged input also loses streams
        _verify(output, plan, expect_audio=info.audio is not None)
        if poster is not None and not _written(poster):
            # The source had no picture to give (damaged, a format PyAV cannot seek).
            within_time(
                "the poster",
                lambda left: _poster_at(
                    dst,
                    poster,
                    0.0,
                    ffmpeg=ffmpeg,
                    timeout=min(left, POSTER_TIMEOUT),
                    memory_bytes=budget.memory_bytes,
                ),
            )
            if not _written(poster):
                raise ConversionFailed(NO_POSTER, permanent=True, detail="ffmpeg wrote no frame")
    except BaseException:
        Path(dst).unlink(missing_ok=True)
        if poster is not None:
            Path(poster).unlink(missing_ok=True)
        raise
    return replace(output, source_loudness=measured.integrated if measured else None)


def loudness_filter(
    measured: loudness.Loudness | None,
    *,
    channels: int,
    measure: Callable[[str | None], loudness.Loudness | None],
) -> str | None:
    """The -af chain that brings sound `measured` to the target (None: none). `measure(chain)`
    measures the sound after a chain: the limiter's gain is found with it."""
    gain = loudness.gain_for(measured)
    if gain is None:
        return None
    limit = loudness.needs_limiter(measured, gain)
    if limit:
        gain = _limited_gain(gain, channels=channels, measure=measure)
    return loudness.audio_filter(gain, channels=channels, limit=limit)


def _limited_gain(gain: float, *, channels: int, measure) -> float:
    """The limiter takes loudness away with the peaks: measure what it leaves and raise the
    gain, a few times at most. Where more gain no longer makes the sound louder (its peaks
    carry its loudness, as a buzz's), the true-peak ceiling wins over the target, as R128
    wants: the smaller gain that got as loud is kept."""
    best_gain, best_loudness = gain, None
    for _step in range(loudness.LIMITER_STEPS):
        limited = measure(loudness.audio_filter(gain, channels=channels, limit=True))
        if limited is None or limited.silent:
            break
        if best_loudness is not None and limited.integrated < best_loudness + loudness.GAINED:
            break
        best_gain, best_loudness = gain, limited.integrated
        if abs(limited.integrated - loudness.TARGET_LUFS) <= loudness.TOLERANCE_LU / 2:
            break
        gain = loudness.refine_gain(gain, limited)
    return best_gain


def measure_loudness(
    src: str | os.PathLike[str],
    *,
    channels: int,
    chain: str | None = None,
    ffmpeg: str,
    timeout: float,
    budget: Budget,
) -> loudness.Loudness | None:
    """The EBU R128 loudness of the first sound stream (after `chain`, an -af chain); None
    when ffmpeg measured nothing (no sound could be decoded: the conversion then tells)."""
    try:
        log = run_ffmpeg(
            ffmpeg,
            loudness.measure_args(src, channels=channels, chain=chain),
            timeout=timeout,
            memory_bytes=budget.memory_bytes,
            loglevel="info",
        )
    except ConversionTimeout:
        raise
    except ConversionFailed as failure:
        if not failure.permanent:
            raise
        return None
    return loudness.parse_summary(log)


def transcode(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    plan: Plan,
    *,
    ffmpeg: str,
    extra_args: Sequence[str] = (),
    timeout: float,
    limits: MediaLimits | None = None,
    budget: Budget | None = None,
    measure_channels: int | None = None,
) -> str:
    """Run ffmpeg on `src` following `plan`, within `budget`. The input whitelists and the
    decoders' limits apply even without probe(). Raises OutputTooLarge when ffmpeg stopped at
    budget.max_output_bytes. measure_channels: also measure the sound's loudness as it comes
    out with that many channels (1 or more: stereo); the end of ffmpeg's log, returned, then
    holds the summary (loudness.parse_summary())."""
    limits = limits or MediaLimits()
    budget = budget or Budget()
    args = transcode_args(src, dst, plan, extra_args=extra_args, limits=limits, budget=budget)
    loglevel = "error"
    if measure_channels is not None:
        args += loudness.measure_output_args(channels=measure_channels)
        loglevel = "info"  # ebur128 logs its summary at this level
    log = run_ffmpeg(
        ffmpeg, args, timeout=timeout, memory_bytes=budget.memory_bytes, loglevel=loglevel
    )
    written = os.path.getsize(dst) if os.path.exists(dst) else 0
    if written >= budget.max_output_bytes:
        raise OutputTooLarge(
            allowed=budget.max_output_bytes,
            actual=written,
            detail=f"ffmpeg stopped at -fs {budget.max_output_bytes}, wrote {written} bytes",
        )
    return log


def transcode_args(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    plan: Plan,
    *,
    extra_args: Sequence[str] = (),
    limits: MediaLimits,
    budget: Budget,
) -> list[str]:
    """ffmpeg's arguments (after the fixed ones run_ffmpeg adds) for transcode()."""
    return [
        *["-max_streams", str(limits.format_max_streams())],
        *["-max_pixels", str(limits.decoder_max_pixels())],  # no larger picture is decoded
        *ffmpeg_input(src),
        *plan.ffmpeg_args,
        *extra_args,
        # After extra_args, which must not lift it. ffmpeg stops writing once the file has
        # reached it, and exits as if it had finished.
        *["-fs", str(budget.max_output_bytes)],
        *["-f", "mp4", file_url(dst)],
    ]


def extract_poster(
    video: str | os.PathLike[str],
    poster_jpg: str | os.PathLike[str],
    *,
    ffmpeg: str,
    timeout: float,
    budget: Budget | None = None,
) -> None:
    """Write a JPEG poster from a converted video: at 1 s, or the middle of shorter clips.
    ffmpeg runs under budget.memory_bytes. (convert(poster=...) takes it from the source.)"""
    memory_bytes = (budget or Budget()).memory_bytes
    duration = _probe_output(video).duration or 0.0
    at = 1.0 if duration >= 2 else duration / 2
    # Seeking can land past the only frame of a very short clip: ffmpeg 5 then writes nothing,
    # ffmpeg 9 fails. Either way, try again with the first frame.
    with contextlib.suppress(ConversionFailed):
        _poster_at(video, poster_jpg, at, ffmpeg=ffmpeg, timeout=timeout, memory_bytes=memory_bytes)
    if not _written(poster_jpg):
        _poster_at(
            video, poster_jpg, 0.0, ffmpeg=ffmpeg, timeout=timeout, memory_bytes=memory_bytes
        )
    if not _written(poster_jpg):
        raise ConversionFailed(NO_POSTER, permanent=True, detail="ffmpeg wrote no frame")


def _poster_at(
    video: str | os.PathLike[str],
    poster_jpg: str | os.PathLike[str],
    seconds: float,
    *,
    ffmpeg: str,
    timeout: float,
    memory_bytes: int,
) -> None:
    args = ["-ss", f"{seconds:.3f}", *ffmpeg_input(video), "-map", "0:V:0", "-frames:v", "1"]
    args += ["-q:v", "2", "-update", "1", "-f", "image2", file_url(poster_jpg)]
    run_ffmpeg(ffmpeg, args, timeout=timeout, memory_bytes=memory_bytes)


def _written(path: str | os.PathLike[str]) -> bool:
    return os.path.exists(path) and os.path.getsize(path) > 0


# Before every run's own arguments.
FFMPEG_OPTIONS = ["-nostdin", "-hide_banner", "-y", "-loglevel", "error", "-nostats"]


def run_ffmpeg(
    ffmpeg: str,
    args: Sequence[str],
    *,
    timeout: float,
    memory_bytes: int | None = None,
    loglevel: str = "error",
    niceness: int = 0,
) -> str:
    """Run ffmpeg with `args`, its address space limited to `memory_bytes` (RLIMIT_AS) when
    given, at `niceness` (0 to 19: background work gives way to what someone waits for);
    raise ConversionTimeout or ConversionFailed when it fails. Returns the end of what it
    logged (at `loglevel`)."""
    process = subprocess.Popen(
        [ffmpeg, *FFMPEG_OPTIONS, "-loglevel", loglevel, *args],  # the later -loglevel holds
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # own process group, so a timeout kills everything it started
        preexec_fn=lambda: _limit_child(memory_bytes, niceness),
    )
    stderr = _StderrTail(process, stop_on=OUT_OF_MEMORY if memory_bytes is not None else ())
    deadline = time.monotonic() + timeout
    try:
        # ffmpeg's exit closes its stderr: waiting for that wakes at once, where Popen.wait's
        # timeout polls every 50 ms (a third of a quick remux).
        stderr.wait_closed(timeout)
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(process)
        raise ConversionTimeout(TOO_SLOW, detail=f"ffmpeg killed after {timeout:g} s") from None
    except BaseException:
        # E.g. Celery's soft time limit or Ctrl-C: never leave ffmpeg running behind us.
        _kill(process)
        raise
    finally:
        stderr.join()
    if process.returncode == 0:
        return stderr.text()
    raise _failure(
        process.returncode,
        stderr.text(),
        memory_limited=memory_bytes is not None,
        stopped_out_of_memory=stderr.stopped,
    )


class _StderrTail:
    """Reads ffmpeg's stderr as it comes and keeps only its end.

    A damaged input can make ffmpeg print a line per frame, and ffmpeg 9 out of memory can
    print "Cannot allocate memory" in a loop, or hang, without ever exiting: on a phrase of
    `stop_on`, ffmpeg is killed at once.
    """

    def __init__(self, process: subprocess.Popen[bytes], *, stop_on: Sequence[str]) -> None:
        self.process = process
        self.stop_on = [phrase.encode() for phrase in stop_on]
        self.tail = b""
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        while chunk := self.process.stderr.read1(STDERR_KEPT_BYTES):
            self.tail = (self.tail + chunk)[-STDERR_KEPT_BYTES:]
            if not self.stopped and any(phrase in self.tail for phrase in self.stop_on):
                self.stopped = True
                if self.process.returncode is None:  # not reaped: the group is still ours
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)

    def wait_closed(self, timeout: float) -> None:
        """Return when the stream has ended, or after `timeout` seconds."""
        self.thread.join(timeout)

    def join(self) -> None:
        self.thread.join()
        assert self.process.stderr is not None
        self.process.stderr.close()

    def text(self) -> str:
        return self.tail.decode("utf-8", "replace")

    def last_lines(self) -> str:
        return "\n".join(self.text().strip().splitlines()[-STDERR_TAIL_LINES:])


def _failure(
    returncode: int, stderr: str, *, memory_limited: bool, stopped_out_of_memory: bool
) -> ConversionFailed:
    tail = "\n".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
    if returncode < 0:
        name = signal.strsignal(-returncode)
        detail = f"ffmpeg killed by signal {-returncode} ({name}): {tail}"
    else:
        detail = f"ffmpeg exit {returncode}: {tail}"
    if _says(stderr, CANNOT_START):
        return ConversionFailed(OUR_FAULT, permanent=False, detail=detail)
    if _says(stderr, OVER_LIMITS):
        return ConversionFailed(BAD_INPUT, permanent=True, detail=detail)
    if stopped_out_of_memory or (memory_limited and _says(stderr, OUT_OF_MEMORY)):
        # RLIMIT_AS is per process and deterministic: this input needs more than the budget
        # every time, so trying again cannot help.
        return ConversionFailed(NEEDS_MEMORY, permanent=True, detail=detail)
    if returncode < 0:
        permanent = -returncode not in OUTSIDE_SIGNALS  # a crash happens again
        return ConversionFailed(
            BAD_INPUT if permanent else OUR_FAULT, permanent=permanent, detail=detail
        )
    if _says(stderr, OUR_FAULTS):
        return ConversionFailed(OUR_FAULT, permanent=False, detail=detail)
    return ConversionFailed(BAD_INPUT, permanent=True, detail=detail)


def _says(stderr: str, phrases: Sequence[str]) -> bool:
    return any(phrase in stderr for phrase in phrases)


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _limit_child(memory_bytes: int | None, niceness: int = 0) -> None:
    # Runs in the child before exec. Ask Linux to SIGKILL ffmpeg if our worker dies.
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if memory_bytes is not None:
        lower_rlimit(resource.RLIMIT_AS, memory_bytes)
    lower_rlimit(resource.RLIMIT_CORE, 0)  # a crash must not dump gigabytes on the disk
    if niceness:
        os.nice(niceness)


def _probe_output(path: str | os.PathLike[str], *, max_duration: float = math.inf) -> MediaInfo:
    """Probe a file ffmpeg wrote: only its length is limited (its header now tells the truth)."""
    limits = replace(UNLIMITED, max_duration=max_duration + OUTPUT_DURATION_MARGIN)
    try:
        return probe(path, limits)
    except LimitExceeded as exc:
        raise LimitExceeded(
            exc.limit, allowed=max_duration, actual=exc.actual, detail=f"output: {exc.detail}"
        ) from exc
    except InvalidMedia as exc:
        raise ConversionFailed(BAD_INPUT, permanent=True, detail=f"output: {exc}") from exc


def _check_length(info: MediaInfo, output: MediaInfo) -> None:
    """Fail when much less came out than the input announces (its duration, or its frame
    count at its frame rate): noise after a valid header, say."""
    announced = info.duration or 0.0
    video = info.video
    if video is not None and video.frames and video.frame_rate:
        announced = max(announced, float(video.frames / video.frame_rate))
    made = output.duration or 0.0
    shortfall = announced - made
    if shortfall > MIN_SHORTFALL and shortfall > announced * DAMAGED_SHARE:
        detail = f"output {made:.2f} s of {announced:.2f} s announced"
        raise ConversionFailed(DAMAGED, permanent=True, detail=detail)


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
