"""What an upload may declare, and what reading and converting it may spend.

`MediaLimits` is checked from the headers before anything is decoded (probe.py) and again on
the converted file, since a header can hide a file's real length. `Budget` bounds one
conversion: ffmpeg's memory, the size of what it writes and how long it may run.
"""

import math
import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ConversionFailed, InvalidMedia

if TYPE_CHECKING:
    from .probe import MediaInfo

MiB = 1024 * 1024
GiB = 1024 * MiB

# libavcodec's pixel options are C ints.
INT_MAX = 2**31 - 1
# Decoders allocate rows padded to a multiple of up to 64 pixels (STRIDE_ALIGN with AVX-512),
# and libavcodec checks that padded size against max_pixels: a picture exactly at the limit
# needs this many extra pixels per row of height to still decode.
ROW_PADDING = 64
MIN_FFMPEG_MEMORY_BYTES = 320 * MiB


@dataclass(frozen=True)
class MediaLimits:
    max_duration: float = 1800  # seconds
    max_side: int = 4096  # largest width or height of the stored picture, in pixels
    max_pixels: int = 8_912_896  # width x height (4096 x 2176)
    max_streams: int = 16  # video, audio, subtitle, data and attachment streams together
    max_frame_rate: float = 240  # frames a second, on average

    def decoder_max_pixels(self) -> int:
        """libavcodec's `max_pixels` for these limits: no picture beyond them is ever decoded."""
        return min(INT_MAX, self.max_pixels + ROW_PADDING * self.max_side)

    def format_max_streams(self) -> int:
        """libavformat's `max_streams`: one more than allowed, so that too many can be told."""
        return min(INT_MAX, self.max_streams + 1)


class LimitExceeded(InvalidMedia):
    """The upload declares more than this site accepts (see MediaLimits).

    `limit` is one of "duration", "side", "pixels", "streams" or "frame_rate"; `allowed` and
    `actual` are in seconds, pixels, streams or frames a second. For "streams", `actual` is a
    lower bound: libavformat stops counting one past the limit.
    """

    def __init__(self, limit: str, *, allowed: float, actual: float, detail: str = "") -> None:
        super().__init__(_REASONS[limit](allowed, actual), detail=detail)
        self.limit = limit
        self.allowed = allowed
        self.actual = actual


class OutputTooLarge(ConversionFailed):
    """ffmpeg stopped writing at the output size limit: the converted file would be larger."""

    permanent = True
    limit = "output_size"

    def __init__(self, *, allowed: int, actual: int, detail: str = "") -> None:
        reason = (
            f"The converted video would be larger than {format_size(allowed)}, "
            "the most this site stores."
        )
        super().__init__(reason, detail=detail)
        self.allowed = allowed
        self.actual = actual


def check_limits(info: "MediaInfo", limits: MediaLimits) -> None:
    """Raise LimitExceeded for the first limit `info` exceeds; unknown values pass."""
    if info.streams > limits.max_streams:
        raise LimitExceeded("streams", allowed=limits.max_streams, actual=info.streams)
    if info.duration is not None and info.duration > limits.max_duration:
        raise LimitExceeded("duration", allowed=limits.max_duration, actual=info.duration)
    video = info.video
    if video is None:
        return
    if max(video.width, video.height) > limits.max_side:
        side = max(video.width, video.height)
        raise LimitExceeded("side", allowed=limits.max_side, actual=side)
    if video.width * video.height > limits.max_pixels:
        pixels = video.width * video.height
        raise LimitExceeded("pixels", allowed=limits.max_pixels, actual=pixels)
    rate = video.frame_rate
    if rate is not None and rate > limits.max_frame_rate:
        raise LimitExceeded("frame_rate", allowed=limits.max_frame_rate, actual=float(rate))


@dataclass(frozen=True)
class Budget:
    """What one conversion may spend."""

    memory_bytes: int = 3 * GiB  # address space (RLIMIT_AS) of each ffmpeg run
    max_output_bytes: int = 4 * GiB  # ffmpeg's -fs: largest converted file
    timeout_base: float = 120  # seconds every conversion may take...
    timeout_per_second: float = 4  # ...plus this many per second of input...
    timeout_ceiling: float = 1800  # ...but never more than this
    # The input is read again in the worker, in a child process bounded like the upload check.
    probe_memory_bytes: int = 512 * MiB
    probe_seconds: float = 20

    def __post_init__(self) -> None:
        # Below this ffmpeg cannot even load (Debian's 5.1 maps 271 MiB of libraries; the
        # static 9.0 crashes under 191 MiB), which would blame every upload for it.
        if self.memory_bytes < MIN_FFMPEG_MEMORY_BYTES:
            raise ValueError(
                f"Budget.memory_bytes must be at least {MIN_FFMPEG_MEMORY_BYTES // MiB} MiB"
            )

    def timeout_for(self, duration: float | None) -> float:
        """Seconds a conversion of `duration` seconds of input may run.

        An unknown duration gets the ceiling: such a file may be as long as any accepted one.
        """
        if duration is None:
            return self.timeout_ceiling
        return min(self.timeout_ceiling, self.timeout_base + self.timeout_per_second * duration)


def lower_rlimit(kind: int, soft: int, hard: int | None = None) -> None:
    """setrlimit() that never tries to raise a limit this process was started with."""
    _, current = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def format_duration(seconds: float) -> str:
    """10:00:00, 30:00, 0:05 (whole seconds, rounded up so that a refusal never reads equal)."""
    total = math.ceil(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def format_size(size: int) -> str:
    for unit, scale in (("GB", GiB), ("MB", MiB), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def _rate(value: float) -> str:
    return f"{round(float(value), 2):g}"


_REASONS = {
    "duration": lambda allowed, actual: (
        f"The video is {format_duration(actual)} long; "
        f"the longest accepted is {format_duration(allowed)}."
    ),
    "side": lambda allowed, actual: (
        f"The video's picture is {actual:.0f} pixels wide or high; "
        f"the largest accepted is {allowed:.0f}."
    ),
    "pixels": lambda allowed, actual: (
        f"The video's picture has {actual:,.0f} pixels; the most accepted is {allowed:,.0f}."
    ),
    "streams": lambda allowed, actual: (
        f"The file holds more than {allowed:.0f} streams (pictures, sound, subtitles…); "
        f"at most {allowed:.0f} are accepted."
    ),
    "frame_rate": lambda allowed, actual: (
        f"The video has {_rate(actual)} frames a second; the most accepted is {_rate(allowed)}."
    ),
}

LIMITS = tuple(_REASONS)
