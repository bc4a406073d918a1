"""Hostile files (tests/bombs.py): refused from their headers, read in a bounded child, and
converted within a budget that no input can stretch."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

from tests import bombs
from transcoding import (
    Budget,
    ConversionFailed,
    ConversionTimeout,
    InvalidMedia,
    LimitExceeded,
    MediaLimits,
    OutputTooLarge,
    ProbeServer,
    TranscodingError,
    convert,
    probe,
    probe_isolated,
    run_ffmpeg,
)
from transcoding.limits import MiB

ROOT = Path(__file__).resolve().parents[2]
NO_LIMITS = MediaLimits(
    max_duration=1e12,
    max_side=2**31 - 1,
    max_pixels=2**31 - 1,
    max_streams=10**6,
    max_frame_rate=1e12,
)

# Runs in a fresh Python, so that its peak RSS starts low: how much one read grew the process.
MEASURE = """
import json, resource, sys
from tests.transcoding.test_transcoding_bombs import NO_LIMITS
from transcoding import TranscodingError, probe, probe_isolated
how, path = sys.argv[1:]
def address_space_peak():
    status = open("/proc/self/status").read().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmPeak"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
before_address_space = address_space_peak()
try:
    if how == "probe":
        probe(path)
    elif how == "probe without limits":
        probe(path, NO_LIMITS)
    else:
        probe_isolated(path, limits=NO_LIMITS, warm=how.endswith("warm"))
    outcome = {"error": None}
except TranscodingError as error:
    outcome = {"error": type(error).__name__, "limit": getattr(error, "limit", None)}
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
grown_address_space = (address_space_peak() - before_address_space) * 1024
print(json.dumps({"grown": grown, "grown_address_space": grown_address_space, **outcome}))
"""


def measure(how: str, path: Path) -> dict:
    """Read `path` as `how` says in a fresh Python; its peak RSS growth and the outcome."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, how, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


REFUSALS = [
    ("late_frame.mkv", "duration", 36_000),
    ("canvas.gif", "side", 16_000),
    ("canvas.h264", "side", 16_000),
    ("streams.mkv", "streams", 17),  # Matroska stops making streams at max_streams
    ("streams.mp4", "streams", 17),  # MP4 fails as out of memory at max_streams
    ("fast_1000fps.mkv", "frame_rate", 1000),
]


@pytest.mark.parametrize(("name", "limit", "actual"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_probe_refuses_from_the_headers(bomb, name, limit, actual):
    with pytest.raises(LimitExceeded) as raised:
        probe(bomb(name))
    assert raised.value.limit == limit
    assert raised.value.actual == pytest.approx(actual, rel=0.01)
    assert raised.value.permanent


@pytest.mark.parametrize(("name", "limit", "actual"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_probe_refuses_before_decoding_anything_large(bomb, name, limit, actual):
    outcome = measure("probe", bomb(name))
    assert (outcome["error"], outcome["limit"]) == ("LimitExceeded", limit)
    assert outcome["grown"] < 64 * MiB


@pytest.mark.parametrize(("name", "limit", "actual"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_come_back_from_the_child_unchanged(bomb, name, limit, actual):
    with pytest.raises(LimitExceeded) as in_process:
        probe(bomb(name))
    with pytest.raises(LimitExceeded) as isolated:
        probe_isolated(bomb(name))
    expected = in_process.value
    got = isolated.value
    assert (got.limit, got.allowed, got.actual) == (
        expected.limit,
        expected.allowed,
        expected.actual,
    )
    assert got.reason == expected.reason
    assert got.permanent


@pytest.mark.parametrize("name", ["canvas.gif", "canvas.h264", "streams.mkv"])
def test_a_bomb_read_in_the_child_costs_the_caller_nothing(bomb, name):
    # Without the media limits, read in the process itself, each of these takes from 0.8 to
    # 1.2 GB (its peak address space: resident pages depend on how busy the machine is)...
    assert measure("probe without limits", bomb(name))["grown_address_space"] > 512 * MiB
    # ...and in the child, bounded by its memory limit alone, nothing in the caller.
    assert measure("probe_isolated without limits", bomb(name))["grown"] < 64 * MiB


def test_a_child_out_of_memory_ends_as_invalid_media(bomb):
    with pytest.raises(InvalidMedia) as raised:
        probe_isolated(bomb("canvas.gif"), limits=NO_LIMITS, memory_bytes=256 * MiB)
    assert raised.value.permanent
    assert raised.value.reason == "The file needs more memory than this site allows to read it."


def test_a_child_out_of_time_ends_as_invalid_media(clip):
    with pytest.raises(InvalidMedia) as raised:
        probe_isolated(clip("h264_aac.mp4"), seconds=1e-6)
    assert raised.value.permanent
    assert raised.value.reason == "The file took too long to read."


def test_a_child_that_cannot_even_start_is_our_fault(clip):
    with pytest.raises(TranscodingError) as raised:
        probe_isolated(clip("h264_aac.mp4"), memory_bytes=64 * MiB)
    assert not isinstance(raised.value, InvalidMedia)
    assert not raised.value.permanent
    assert "below what Python needs" in raised.value.detail


@pytest.mark.parametrize(
    "name", ["h264_aac.mp4", "rot90_h264.mp4", "sar2_mpeg4.mp4", "wmv2_wmav2.wmv"]
)
def test_the_child_answers_what_probe_answers(clip, name):
    assert probe_isolated(clip(name)) == probe(clip(name))


def test_the_child_refuses_what_probe_refuses(clip, tmp_path):
    with pytest.raises(InvalidMedia) as raised:
        probe_isolated(clip("audio_with_cover.m4a"))
    assert "holds no video" in raised.value.reason
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidMedia, match="empty"):
        probe_isolated(empty)
    with pytest.raises(FileNotFoundError):
        probe_isolated(tmp_path / "nothing.mp4")


def test_probe_reports_streams_and_frame_rate(clip, bomb):
    info = probe(clip("h264_aac.mp4"))
    assert info.streams == 2
    assert info.frame_rate == info.video.frame_rate == 15
    assert probe(bomb("three_frames_vfr.mkv")).frame_rate is not None


def test_a_hidden_length_passes_the_headers(bomb):
    info = probe(bomb("late_frame_hidden.mkv"))
    assert info.duration is None  # nothing in the headers tells
    assert info.video is not None and (info.video.width, info.video.height) == (64, 64)


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_no_frames_are_invented_for_variable_frame_rate(bomb, ffmpeg, tmp_path):
    dst = tmp_path / "out.mp4"
    out = convert(bomb("three_frames_vfr.mkv"), dst, ffmpeg=ffmpeg)
    assert out.video is not None and out.video.frames == 3
    assert count_frames(dst) == 3
    assert out.duration == pytest.approx(2.5, abs=0.1)


def test_a_length_hidden_by_the_headers_is_caught_on_the_output(bomb, ffmpeg, tmp_path):
    dst = tmp_path / "out.mp4"
    with pytest.raises(LimitExceeded) as raised:
        convert(bomb("late_frame_hidden.mkv"), dst, ffmpeg=ffmpeg)
    assert raised.value.limit == "duration"
    assert raised.value.allowed == 1800
    assert raised.value.actual == pytest.approx(36_000, abs=1)
    assert raised.value.permanent
    assert not dst.exists()


def test_a_declared_length_is_refused_before_ffmpeg_runs(bomb, tmp_path):
    dst = tmp_path / "out.mp4"
    with pytest.raises(LimitExceeded) as raised:
        convert(bomb("late_frame.mkv"), dst, ffmpeg=str(tmp_path / "no-ffmpeg-here"))
    assert raised.value.limit == "duration"
    assert not dst.exists()


def test_an_output_over_the_size_limit_fails_permanently(clip, ffmpeg, tmp_path):
    dst = tmp_path / "out.mp4"
    budget = Budget(max_output_bytes=16 * 1024)
    with pytest.raises(OutputTooLarge) as raised:
        convert(clip("big_1440p.mp4"), dst, ffmpeg=ffmpeg, budget=budget)
    assert raised.value.permanent and isinstance(raised.value, ConversionFailed)
    assert (raised.value.limit, raised.value.allowed) == ("output_size", 16 * 1024)
    assert raised.value.actual >= 16 * 1024
    assert "larger than 16 KB" in raised.value.reason
    assert not dst.exists()
    # The same conversion fits with the default budget.
    assert convert(clip("big_1440p.mp4"), dst, ffmpeg=ffmpeg).video is not None


def test_a_memory_budget_too_small_fails_cleanly(bomb, ffmpeg, tmp_path):
    dst = tmp_path / "out.mp4"
    src = bomb("big_black.mkv")  # 4096x2176, within the limits
    with pytest.raises(ConversionFailed) as raised:
        convert(src, dst, ffmpeg=ffmpeg, budget=Budget(memory_bytes=400 * MiB))
    assert raised.value.permanent  # the same input needs the same memory every time
    assert not dst.exists()
    out = convert(src, dst, ffmpeg=ffmpeg)  # the default budget is enough for it
    assert out.video is not None and (out.video.width, out.video.height) == (1920, 1020)


def test_ffmpeg_out_of_memory_is_blamed_on_the_input(ffmpeg):
    args = ["-f", "lavfi", "-i", "color=size=4096x2176", "-frames:v", "5"]
    args += [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv444p10le",
        "-f",
        "null",
        "-",
    ]
    with pytest.raises(ConversionFailed) as raised:
        run_ffmpeg(ffmpeg, args, timeout=60, memory_bytes=400 * MiB)
    assert raised.value.permanent
    run_ffmpeg(ffmpeg, args, timeout=60, memory_bytes=3 * 1024 * MiB)


def test_a_picture_exactly_at_the_limits_converts(clip, ffmpeg, tmp_path):
    # Decoders pad rows to up to 64 pixels and check the padded size: 321x241 needs room.
    exact = MediaLimits(max_side=321, max_pixels=321 * 241)
    out = convert(clip("odd_mjpeg.avi"), tmp_path / "out.mp4", ffmpeg=ffmpeg, limits=exact)
    assert out.video is not None and out.video.frames == 15
    smaller = MediaLimits(max_side=321, max_pixels=321 * 241 - 1)
    with pytest.raises(LimitExceeded) as raised:
        convert(clip("odd_mjpeg.avi"), tmp_path / "out.mp4", ffmpeg=ffmpeg, limits=smaller)
    assert raised.value.limit == "pixels"


def test_the_time_limit_follows_the_input_duration(clip, ffmpeg, tmp_path):
    budget = Budget(timeout_base=0.001, timeout_per_second=0.002)
    with pytest.raises(ConversionTimeout) as raised:
        convert(clip("big_1440p.mp4"), tmp_path / "out.mp4", ffmpeg=ffmpeg, budget=budget)
    assert not raised.value.permanent
    assert "time limit of 0.003 s" in raised.value.detail  # 0.001 + 0.002 x 1 s of input


def test_pyav_hands_each_kind_of_option_to_its_part_of_libav(bomb, tmp_path):
    # What probe() relies on, in PyAV 18. container_options reach the demuxer...
    with av.open(str(bomb("streams.mkv")), container_options={"max_streams": "17"}) as container:
        assert len(container.streams) == 17
    # ...options also reach the decoders avformat_find_stream_info() opens, and a refusal there
    # loses the size the header declared...
    gif = str(bomb("canvas.gif"))
    with av.open(gif, options={"max_pixels": "1000000"}) as container:
        assert container.streams.video[0].codec_context.width == 0
    # ...hence a first read of the headers with no decoder allowed at all.
    with av.open(gif, container_options={"codec_whitelist": "-"}) as container:
        assert container.streams.video[0].codec_context.width == 16_000
    # The decoder PyAV decodes with sees none of them: it takes its own.
    small = str(bombs.gif_canvas(tmp_path / "small.gif", width=2000, height=2000))
    with av.open(small) as container:
        stream = container.streams.video[0]
        stream.codec_context.options = {"max_pixels": "1000000"}
        with pytest.raises(av.error.FFmpegError):
            next(container.decode(stream))
    with av.open(small) as container:
        assert next(container.decode(video=0)).width == 2000


# The warm server (probe_isolated(warm=True)) forks each probe from a server that has PyAV
# loaded: the same limits, answers and refusals as a fresh child.


@pytest.mark.parametrize(("name", "limit", "actual"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_the_warm_server_refuses_what_probe_refuses(bomb, name, limit, actual):
    with pytest.raises(LimitExceeded) as raised:
        probe_isolated(bomb(name), warm=True)
    assert (raised.value.limit, raised.value.actual) == (limit, pytest.approx(actual, rel=0.01))


@pytest.mark.parametrize("name", ["canvas.gif", "streams.mkv"])
def test_a_bomb_read_by_the_warm_server_costs_the_caller_nothing(bomb, name):
    assert measure("probe_isolated without limits, warm", bomb(name))["grown"] < 64 * MiB


@pytest.mark.parametrize(
    "name", ["h264_aac.mp4", "rot90_h264.mp4", "sar2_mpeg4.mp4", "wmv2_wmav2.wmv"]
)
def test_the_warm_server_answers_what_probe_answers(clip, name):
    assert probe_isolated(clip(name), warm=True) == probe(clip(name))


def test_a_warm_probe_out_of_memory_or_time_ends_as_invalid_media(bomb, clip):
    with pytest.raises(InvalidMedia) as raised:
        probe_isolated(bomb("canvas.gif"), limits=NO_LIMITS, memory_bytes=256 * MiB, warm=True)
    assert raised.value.reason == "The file needs more memory than this site allows to read it."
    with pytest.raises(InvalidMedia) as raised:
        probe_isolated(clip("h264_aac.mp4"), seconds=1e-6, warm=True)
    assert raised.value.reason == "The file took too long to read."


def test_a_warm_probe_that_cannot_start_is_our_fault(clip):
    with pytest.raises(TranscodingError) as raised:
        probe_isolated(clip("h264_aac.mp4"), memory_bytes=64 * MiB, warm=True)
    assert not isinstance(raised.value, InvalidMedia) and not raised.value.permanent
    assert "below what Python needs" in raised.value.detail


def test_the_server_is_kept_and_replaced_when_it_dies(clip):
    path = clip("h264_aac.mp4")
    server = ProbeServer.of_this_process()
    probe_isolated(path, warm=True)
    assert server.process is not None
    first = server.process.pid
    probe_isolated(path, warm=True)
    assert server.process.pid == first  # one server for the whole process
    os.kill(first, signal.SIGKILL)
    server.process.wait()
    assert probe_isolated(path, warm=True) == probe(path)  # answered all the same
    probe_isolated(path, warm=True)
    assert server.process is not None and server.process.pid != first


@pytest.mark.parametrize("warm", [False, True], ids=["fresh", "warm"])
@pytest.mark.parametrize(
    ("name", "size"), [("rot90_h264.mp4", (120, 160)), ("long_gop.mp4", (160, 120))]
)
def test_the_child_also_writes_the_poster_when_asked(clip, tmp_path, warm, name, size):
    poster = tmp_path / "poster.jpg"
    info = probe_isolated(clip(name), poster=poster, warm=warm)
    assert info == probe(clip(name))
    with Image.open(poster) as image:
        assert (image.format, image.size) == ("JPEG", size)  # upright, as displayed


def test_a_poster_the_child_cannot_write_changes_nothing_in_the_answer(clip, tmp_path):
    poster = tmp_path / "no such folder" / "poster.jpg"
    assert probe_isolated(clip("h264_aac.mp4"), poster=poster) == probe(clip("h264_aac.mp4"))
    assert not poster.exists()
