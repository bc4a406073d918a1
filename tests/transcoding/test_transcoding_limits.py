"""check_limits() and Budget on made-up stream descriptions: which limit, and what it says."""

from fractions import Fraction

import pytest

from transcoding import (
    Budget,
    InvalidMedia,
    LimitExceeded,
    MediaInfo,
    MediaLimits,
    VideoStream,
    check_limits,
)
from transcoding.limits import GiB, MiB

LIMITS = MediaLimits()


def info(
    *,
    duration: float | None = 60.0,
    width: int = 1920,
    height: int = 1080,
    rate: Fraction | None = Fraction(30),
    streams: int = 2,
) -> MediaInfo:
    video = VideoStream(
        codec="h264", pix_fmt="yuv420p", width=width, height=height, rotation=0, frame_rate=rate
    )
    return MediaInfo(
        format_name="matroska,webm", duration=duration, video=video, audio=None, streams=streams
    )


def refusal(media: MediaInfo, limits: MediaLimits = LIMITS) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as raised:
        check_limits(media, limits)
    return raised.value


def test_the_defaults_are_the_documented_ones():
    limits = MediaLimits()
    assert limits.max_duration == 1800
    assert (limits.max_side, limits.max_pixels) == (4096, 8_912_896)
    assert (limits.max_streams, limits.max_frame_rate) == (16, 240)


@pytest.mark.parametrize(
    "media",
    [
        info(duration=1800, width=4096, height=2176, rate=Fraction(240), streams=16),
        info(width=2176, height=4096),  # portrait
        info(duration=None, rate=None),  # unknown values pass: ffmpeg and the output decide
        info(width=0, height=0),  # the size only a decoder could tell
    ],
)
def test_everything_at_or_below_the_limits_passes(media):
    check_limits(media, LIMITS)


def test_no_video_passes_the_limits():
    check_limits(MediaInfo("gif", 1.0, None, None, streams=1), LIMITS)


def test_duration():
    error = refusal(info(duration=36_000.0))
    assert (error.limit, error.allowed, error.actual) == ("duration", 1800, 36_000.0)
    assert error.reason == "The video is 10:00:00 long; the longest accepted is 30:00."
    assert error.permanent and isinstance(error, InvalidMedia)


def test_a_duration_just_over_never_reads_as_equal():
    assert "30:01 long" in refusal(info(duration=1800.2)).reason


def test_side():
    error = refusal(info(width=16_000, height=16_000))
    assert (error.limit, error.allowed, error.actual) == ("side", 4096, 16_000)
    assert "16000 pixels wide or high" in error.reason and "4096" in error.reason


def test_pixels_within_the_sides():
    error = refusal(info(width=4096, height=4096))
    assert (error.limit, error.allowed, error.actual) == ("pixels", 8_912_896, 16_777_216)
    assert "16,777,216 pixels" in error.reason and "8,912,896" in error.reason


def test_streams():
    error = refusal(info(streams=17))
    assert (error.limit, error.allowed, error.actual) == ("streams", 16, 17)
    assert "more than 16 streams" in error.reason


def test_frame_rate():
    error = refusal(info(rate=Fraction(30_000, 1001) * 10))
    assert (error.limit, error.allowed) == ("frame_rate", 240)
    assert error.actual == pytest.approx(299.7, abs=0.01)
    assert error.reason == "The video has 299.7 frames a second; the most accepted is 240."


def test_limits_are_configurable():
    tight = MediaLimits(
        max_duration=10, max_side=320, max_pixels=320 * 240, max_streams=2, max_frame_rate=25
    )
    assert refusal(info(streams=3), tight).limit == "streams"
    assert refusal(info(duration=11), tight).limit == "duration"
    assert refusal(info(duration=5), tight).limit == "side"
    assert refusal(info(duration=5, width=320, height=320), tight).limit == "pixels"
    assert refusal(info(duration=5, width=320, height=240), tight).limit == "frame_rate"
    check_limits(info(duration=5, width=320, height=240, rate=Fraction(25)), tight)


def test_libav_is_told_one_stream_more_than_allowed_and_padded_rows():
    assert LIMITS.format_max_streams() == 17
    # A decoder pads rows to 64 pixels: 4096 extra rows of 64 pixels at most.
    assert LIMITS.decoder_max_pixels() == 8_912_896 + 64 * 4096
    huge = MediaLimits(max_side=10**9, max_pixels=10**12, max_streams=10**12)
    assert huge.decoder_max_pixels() == huge.format_max_streams() == 2**31 - 1


def test_budget_defaults():
    budget = Budget()
    assert budget.memory_bytes == 3 * GiB
    assert budget.max_output_bytes == 4 * GiB
    assert (budget.timeout_base, budget.timeout_per_second, budget.timeout_ceiling) == (
        120,
        4,
        1800,
    )
    assert (budget.probe_memory_bytes, budget.probe_seconds) == (512 * MiB, 20)


@pytest.mark.parametrize(
    ("duration", "timeout"),
    [(0.0, 120), (1.0, 124), (60.0, 360), (420.0, 1800), (1800.0, 1800), (None, 1800)],
)
def test_the_time_limit_scales_with_the_duration(duration, timeout):
    assert Budget().timeout_for(duration) == timeout


def test_a_memory_budget_ffmpeg_cannot_even_start_in_is_refused():
    with pytest.raises(ValueError, match="at least 320 MiB"):
        Budget(memory_bytes=200 * MiB)
