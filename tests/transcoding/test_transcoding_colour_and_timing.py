"""Full-range pictures (MJPEG cameras, phones) come out in the range browsers expect, and a
variable-frame-rate clip keeps its sound on its pictures."""

import subprocess
from array import array
from pathlib import Path

import av
import pytest

from tests.media import FFMPEG
from transcoding import convert

# A white flash and a beep at the same moment, after a stutter (no frames from 0.3 to 0.9 s).
FLASH_AT = 1.5


def generate(path: Path, *args: str) -> Path:
    command = [FFMPEG, "-nostdin", "-loglevel", "error", "-y", *args, str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path


def luma_mean(frame: av.VideoFrame) -> float:
    """The mean of the picture's Y plane (rows are padded to line_size)."""
    plane = frame.planes[0]
    data = bytes(plane)
    rows = [
        data[y * plane.line_size : y * plane.line_size + frame.width] for y in range(frame.height)
    ]
    return sum(sum(row) for row in rows) / (frame.width * frame.height)


def first_flash(path: Path) -> float:
    """When the first bright picture is shown, in seconds."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if luma_mean(frame) > 128:
                return float(frame.time)
    raise AssertionError("no flash")


def first_beep(path: Path) -> float:
    """When the first loud sample is heard, in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        # The same rate, only the sample format: each frame comes out whole, at once.
        to_s16 = av.AudioResampler(format="s16", layout="mono", rate=stream.sample_rate)
        for frame in container.decode(stream):
            for mono in to_s16.resample(frame):
                samples = array("h", bytes(mono.planes[0])[: mono.samples * 2])
                for index, sample in enumerate(samples):
                    if abs(sample) > 3000:
                        return float(frame.time) + index / frame.sample_rate
    raise AssertionError("no beep")


@pytest.mark.parametrize(
    "suffix, codecs",
    [
        (".mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]),
        (".mkv", ["-c:v", "mpeg4", "-q:v", "3", "-c:a", "libmp3lame"]),
    ],
    ids=["phone-h264-remuxed", "mpeg4-re-encoded"],
)
def test_a_variable_frame_rate_clip_keeps_its_sound_on_its_pictures(
    suffix, codecs, ffmpeg, tmp_path
):
    source = generate(
        tmp_path / f"phone{suffix}",
        "-f", "lavfi", "-i", "color=black:size=320x240:rate=30:duration=3",
        "-f", "lavfi", "-i",
        f"aevalsrc=if(between(t\\,{FLASH_AT}\\,{FLASH_AT + 0.2})\\,0.8*sin(2*PI*1000*t)\\,0)"
        ":s=44100:d=3",
        "-vf",
        f"drawbox=c=white:t=fill:enable='between(t,{FLASH_AT},{FLASH_AT + 0.2})',"
        "select='not(between(t,0.3,0.9))'",
        "-fps_mode", "vfr", *codecs,
    )  # fmt: skip
    assert abs(first_flash(source) - first_beep(source)) < 0.04
    out = tmp_path / "out.mp4"
    convert(source, out, ffmpeg=ffmpeg, timeout=60)
    assert first_flash(out) == pytest.approx(FLASH_AT, abs=0.04)
    assert first_beep(out) == pytest.approx(FLASH_AT, abs=0.04)  # within about a frame


def test_full_range_pictures_come_out_in_the_browsers_range(ffmpeg, tmp_path):
    """White in a full-range MJPEG (255) is 235 in the limited range browsers assume."""
    source = generate(
        tmp_path / "camera.avi",
        "-f", "lavfi", "-i", "color=white:size=320x240:rate=25:duration=1",
        "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "2",
    )  # fmt: skip
    with av.open(str(source)) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "yuvj420p"
        assert luma_mean(frame) > 250  # full range
    out = tmp_path / "out.mp4"
    convert(source, out, ffmpeg=ffmpeg, timeout=60)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert luma_mean(next(container.decode(stream))) == pytest.approx(235, abs=3)
