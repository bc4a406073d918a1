"""Files that are cut short, or whose content is noise after a valid header, are never
published: a file cut short is refused when it is read, naming the cause; an output much
shorter than its input announces fails the conversion."""

import random
import subprocess
from pathlib import Path

import pytest

from tests.media import FFMPEG, make_clip
from transcoding import ConversionFailed, InvalidMedia, convert, probe
from transcoding.probe import TRUNCATED
from transcoding.run import DAMAGED
from transcoding.truncation import is_truncated

# Containers that state their size, as cameras and editors write them.
STATED_SIZE = {
    ".avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"],
    ".mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".mov": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".3gp": ["-c:v", "h263", "-s", "352x288", "-c:a", "aac", "-ar", "8000", "-ac", "1"],
    ".mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis"],
    ".wmv": ["-c:v", "wmv2", "-c:a", "wmav2"],
}


def made(path: Path, codecs: list[str], seconds: float = 3) -> Path:
    command = [
        FFMPEG, "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        *codecs, "-shortest", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    return path


def cut(path: Path, share: float) -> Path:
    """The file's first `share` of bytes, as an upload that stopped."""
    data = path.read_bytes()
    short = path.with_name(f"cut-{path.name}")
    short.write_bytes(data[: int(len(data) * share)])
    return short


@pytest.mark.parametrize("suffix", sorted(STATED_SIZE))
def test_a_file_cut_short_is_refused_as_incomplete(suffix, tmp_path):
    whole = made(tmp_path / f"whole{suffix}", STATED_SIZE[suffix])
    assert is_truncated(whole) is False
    assert probe(whole).duration
    for share in (0.5, 0.9):
        short = cut(whole, share)
        assert is_truncated(short) is True
        with pytest.raises(InvalidMedia) as raised:
            probe(short)
        assert raised.value.reason == TRUNCATED
        assert raised.value.permanent


def test_a_container_that_states_no_size_is_not_judged(tmp_path):
    flv = make_clip(tmp_path / "clip.flv")
    assert is_truncated(flv) is None
    assert is_truncated(cut(flv, 0.5)) is None


def test_noise_after_a_valid_header_fails_as_damaged(ffmpeg, tmp_path):
    """The first 12 KB of a real AVI and noise after: ffmpeg makes 0.04 s of it."""
    whole = made(tmp_path / "whole.avi", STATED_SIZE[".avi"], seconds=5)
    data = whole.read_bytes()
    noisy = tmp_path / "noisy.avi"
    noisy.write_bytes(data[:12_000] + random.Random(3).randbytes(len(data) - 12_000))
    assert probe(noisy).duration == pytest.approx(5, abs=0.1)  # passes the upload's check
    dst = tmp_path / "out.mp4"
    poster = tmp_path / "poster.jpg"
    with pytest.raises(ConversionFailed) as raised:
        convert(noisy, dst, ffmpeg=ffmpeg, poster=poster, timeout=60)
    assert raised.value.reason == DAMAGED
    assert raised.value.permanent
    assert "of 5.0" in raised.value.detail  # what came out, of what was announced
    assert not dst.exists() and not poster.exists()


def test_a_cut_file_without_a_stated_size_fails_as_damaged(ffmpeg, tmp_path):
    """FLV states no size: the output's length is the check."""
    flv = cut(made(tmp_path / "whole.flv", ["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100"],
                   seconds=6), 0.3)  # fmt: skip
    with pytest.raises(ConversionFailed) as raised:
        convert(flv, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=60)
    assert raised.value.reason == DAMAGED


def test_a_whole_file_converts_to_its_full_length(ffmpeg, tmp_path):
    whole = made(tmp_path / "whole.mkv", STATED_SIZE[".mkv"], seconds=4)
    out = convert(whole, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=60)
    assert out.duration == pytest.approx(4, abs=0.1)
