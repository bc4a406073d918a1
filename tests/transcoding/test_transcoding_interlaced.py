"""Interlaced camera footage is deinterlaced; progressive video is left as it is."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.media import FFMPEG
from transcoding import convert, plan_conversion, probe
from transcoding.plan import DEINTERLACE


def interlaced_mpeg2(path: Path, *, flagged: bool = True) -> Path:
    """Two fields a frame at 50 fields a second, as a PAL camcorder records."""
    flags = ["-flags", "+ilme+ildct"] if flagged else []
    command = [
        FFMPEG, "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=720x576:rate=50:duration=2",
        "-vf", "tinterlace=interleave_top", "-c:v", "mpeg2video", "-b:v", "8M", *flags,
        str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    return path


def combed_share(path: Path) -> float:
    """The share of frames ffmpeg's idet finds interlaced (its multi-frame detection)."""
    command = [FFMPEG, "-nostdin", "-hide_banner", "-i", str(path), "-vf", "idet", "-f", "null"]
    command.append("-")
    stderr = subprocess.run(command, capture_output=True, text=True, timeout=120).stderr
    # ffmpeg 9 prints the counts of a first, empty filter graph too: the last ones count.
    counts = re.findall(
        r"Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)", stderr
    )
    assert counts, stderr[-2000:]
    tff, bff, progressive = map(int, counts[-1])
    return (tff + bff) / max(tff + bff + progressive, 1)


def test_interlaced_footage_comes_out_progressive(ffmpeg, tmp_path):
    source = interlaced_mpeg2(tmp_path / "camcorder.mpg")
    assert combed_share(source) > 0.9
    info = probe(source)
    assert info.video.interlaced
    plan = plan_conversion(info)
    assert not plan.remux and DEINTERLACE in " ".join(plan.ffmpeg_args)
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    assert out.video.frame_rate == 25  # a frame for each pair of fields
    assert combed_share(tmp_path / "out.mp4") < 0.1


@pytest.mark.parametrize("name", ["mpeg4_mp3.avi", "h264_aac.mp4"])
def test_progressive_video_is_not_deinterlaced(clip, name):
    info = probe(clip(name))
    assert not info.video.interlaced
    assert DEINTERLACE not in " ".join(plan_conversion(info).ffmpeg_args)


def test_combing_without_the_flag_is_not_guessed(tmp_path):
    """Only what the file says is trusted: ffmpeg's idet, run on sharp progressive pictures,
    finds half of them "interlaced", and deinterlacing those would soften them."""
    info = probe(interlaced_mpeg2(tmp_path / "unflagged.mpg", flagged=False))
    assert not info.video.interlaced
