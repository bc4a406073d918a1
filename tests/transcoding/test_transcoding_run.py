"""Posters, time limits, failures and finding the ffmpeg binary."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

import transcoding.run
from transcoding import (
    ConversionFailed,
    ConversionTimeout,
    FFmpegNotFound,
    InvalidMedia,
    TranscodingError,
    convert,
    extract_poster,
    find_ffmpeg,
    probe,
    run_ffmpeg,
)


@pytest.mark.parametrize(
    ("name", "size"),
    [("h264_aac.mp4", (160, 120)), ("rot90_h264.mp4", (120, 160)), ("one_frame.mp4", (160, 120))],
)
def test_poster_is_a_jpeg_of_the_video_size(clip, ffmpeg, tmp_path, name, size):
    video = tmp_path / "video.mp4"
    convert(clip(name), video, ffmpeg=ffmpeg, timeout=60)
    poster = tmp_path / "poster.jpg"
    extract_poster(video, poster, ffmpeg=ffmpeg, timeout=30)
    assert poster.read_bytes()[:2] == b"\xff\xd8"
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        assert image.size == size


def test_one_frame_video_converts(clip, ffmpeg, tmp_path):
    out = convert(clip("one_frame.mp4"), tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=60)
    assert out.video is not None and out.video.frames == 1


def test_timeout_kills_ffmpeg(clip, ffmpeg, tmp_path, monkeypatch):
    started: list[subprocess.Popen] = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(transcoding.run.subprocess, "Popen", RecordingPopen)
    dst = tmp_path / "out.mp4"
    with pytest.raises(ConversionTimeout) as raised:
        convert(clip("big_1440p.mp4"), dst, ffmpeg=ffmpeg, timeout=0.001)
    assert not raised.value.permanent
    assert "too long" in raised.value.reason
    ffmpeg_runs = [p for p in started if p.args[0] == ffmpeg]  # not the probe's child
    assert ffmpeg_runs[0].returncode == -signal.SIGKILL
    assert not dst.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only (prctl, /proc)")
def test_ffmpeg_dies_with_its_parent(tmp_path):
    # A child Python runs an endless ffmpeg and prints its pid; killing the child with SIGKILL
    # must take ffmpeg down too (PR_SET_PDEATHSIG).
    script = f"""
import subprocess, sys
sys.path.insert(0, {str(Path(transcoding.run.__file__).parents[1])!r})
import transcoding.run
class Popen(subprocess.Popen):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        print(self.pid, flush=True)
transcoding.run.subprocess.Popen = Popen
transcoding.run.run_ffmpeg({imageio_ffmpeg.get_ffmpeg_exe()!r},
    ["-re", "-f", "lavfi", "-i", "testsrc2", "-f", "null", "-"], timeout=60)
"""
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    ffmpeg_pid = int(child.stdout.readline())
    assert is_running(ffmpeg_pid)
    child.kill()
    child.wait()
    deadline = time.monotonic() + 5
    while is_running(ffmpeg_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(ffmpeg_pid)


def is_running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # zombies are dead


def test_random_bytes_through_convert(ffmpeg, tmp_path):
    src = tmp_path / "upload.avi"
    src.write_bytes(os.urandom(100_000))
    with pytest.raises(InvalidMedia) as raised:
        convert(src, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=30)
    assert raised.value.permanent and raised.value.reason.endswith(".")


def test_truncated_video_converts_or_fails_permanently(clip, ffmpeg, tmp_path):
    # Index first, then only 60 % of the data: what is there may be converted, or the
    # conversion fails with the input blamed; never a crash or an unclear error.
    data = clip("h264_aac_faststart.mp4").read_bytes()
    src = tmp_path / "cut.mp4"
    src.write_bytes(data[: len(data) * 6 // 10])
    try:
        out = convert(src, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=30)
    except TranscodingError as exc:
        assert exc.permanent and exc.reason
    else:
        assert out.video is not None and out.video.codec == "h264"


def test_damaged_input_is_blamed_on_the_input(clip, ffmpeg, tmp_path):
    src = tmp_path / "garbage.mp4"
    src.write_bytes(os.urandom(10_000))
    with pytest.raises(ConversionFailed) as raised:
        run_ffmpeg(ffmpeg, ["-i", str(src), "-f", "null", "-"], timeout=30)
    assert raised.value.permanent
    assert "damaged" in raised.value.reason
    assert "Invalid data found" in raised.value.detail  # ffmpeg's own words, for the logs


def test_bad_operator_options_are_not_blamed_on_the_input(clip, ffmpeg, tmp_path):
    dst = tmp_path / "out.mp4"
    with pytest.raises(ConversionFailed) as raised:
        convert(clip("mpeg4_mp3.avi"), dst, ffmpeg=ffmpeg, extra_args=["-nonsense"], timeout=30)
    assert not raised.value.permanent
    assert not dst.exists()


def test_duration_and_size_are_recorded(clip, ffmpeg, tmp_path):
    out = convert(clip("big_1440p.mp4"), tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=60)
    assert out.duration == pytest.approx(1.0, abs=0.2)
    assert out.video is not None
    assert (out.video.width, out.video.height) == (1920, 1080)
    assert probe(tmp_path / "out.mp4") == out


def test_find_ffmpeg_on_path_or_absolute(tmp_path):
    on_path = shutil.which("ffmpeg")
    if on_path:
        assert find_ffmpeg("ffmpeg") == on_path
    wheel = imageio_ffmpeg.get_ffmpeg_exe()
    assert find_ffmpeg(wheel) == wheel


def test_find_ffmpeg_falls_back_to_the_wheel_binary(tmp_path):
    wheel = imageio_ffmpeg.get_ffmpeg_exe()
    assert find_ffmpeg("no-such-ffmpeg-binary") == wheel
    assert find_ffmpeg(str(tmp_path / "missing" / "ffmpeg")) == wheel


def test_find_ffmpeg_without_any_binary(monkeypatch):
    def broken() -> str:
        raise RuntimeError("no ffmpeg in this wheel")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", broken)
    with pytest.raises(FFmpegNotFound) as raised:
        find_ffmpeg("no-such-ffmpeg-binary")
    assert "not installed" in raised.value.reason
    assert "no-such-ffmpeg-binary" in str(raised.value)
