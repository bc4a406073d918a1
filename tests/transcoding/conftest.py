"""Tiny test clips, made once per session with the static ffmpeg 9 from imageio-ffmpeg.

That binary has the lavfi test sources and every encoder the recipes need, and supports
-display_rotation (ffmpeg >= 6). The pipeline itself is run with each ffmpeg found on the machine.
"""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests import bombs
from transcoding import find_ffmpeg

GEN_FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# 1 s of 160x120 test picture at 15 fps, and 1 s of a tone.
V = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15:duration=1"]
A = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast"]

# name -> ffmpeg arguments; "@name" is replaced by the path of another recipe's clip.
RECIPES: dict[str, list[str]] = {
    "flv1_mp3.flv": [*V, *A, "-c:v", "flv", "-c:a", "libmp3lame"],
    "h264_aac.flv": [*V, *A, *X264, "-c:a", "aac"],
    "wmv2_wmav2.wmv": [*V, *A, "-c:v", "wmv2", "-c:a", "wmav2"],
    "mpeg4_mp3.avi": [*V, *A, "-c:v", "mpeg4", "-c:a", "libmp3lame"],
    "mpeg4_pcm.mov": [*V, *A, "-c:v", "mpeg4", "-c:a", "pcm_s16le"],
    "h264_aac51.mkv": [*V, *A, *X264, "-c:a", "aac", "-ac", "6"],
    "vp9_opus.webm": [
        *V,
        *["-f", "lavfi", "-i", "sine=sample_rate=48000:duration=1"],
        *["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    ],
    "h263_aac.3gp": [
        *["-f", "lavfi", "-i", "testsrc2=size=176x144:rate=15:duration=1"],
        *A,
        *["-c:v", "h263", "-c:a", "aac"],
    ],
    "mpeg2_mp2.mpg": [*V, *A, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"],
    "h264_aac.ts": [*V, *A, *X264, "-c:a", "aac"],
    "h264_aac.mp4": [*V, *A, *X264, "-c:a", "aac"],
    "h264_aac_faststart.mp4": [*V, *A, *X264, "-c:a", "aac", "-movflags", "+faststart"],
    "h264_noaudio.mp4": [*V, *X264],
    "odd_mjpeg.avi": [
        *["-f", "lavfi", "-i", "testsrc=size=321x241:rate=15:duration=1"],
        *["-c:v", "mjpeg"],
    ],
    "h264_10bit.mp4": [*V, *X264, "-pix_fmt", "yuv420p10le"],
    "h264_444.mp4": [*V, *X264, "-pix_fmt", "yuv444p"],
    "big_1440p.mp4": [
        *["-f", "lavfi", "-i", "testsrc2=size=2560x1440:rate=5:duration=1"],
        *X264,
    ],
    "sar2_mpeg4.mp4": [*V, "-vf", "setsar=2", "-c:v", "mpeg4"],
    # -display_rotation 90 turns the picture 90 degrees counter-clockwise: portrait 120x160.
    "rot90_h264.mp4": ["-display_rotation", "90", "-i", "@h264_aac.mp4", "-c", "copy"],
    "rot90_mpeg4.mov": ["-display_rotation", "90", "-i", "@mpeg4_pcm.mov", "-c", "copy"],
    "one_frame.mp4": [*V, *X264, "-frames:v", "1"],
    # One keyframe, B-frames: a poster waits for the decoder to give its picture up.
    "long_gop.mp4": [
        *["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15:duration=6"],
        *X264,
        "-g",
        "1000",
        "-bf",
        "2",
    ],
    # Noise that changes every frame: incompressible, so only the bitrate ceiling bounds it.
    "noisy_mpeg4.avi": [
        *["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"],
        *["-vf", "noise=alls=60:allf=t", "-c:v", "mpeg4", "-q:v", "2"],
    ],
    "audio_with_cover.m4a": [
        *A,
        *["-f", "lavfi", "-i", "testsrc2=size=64x64"],
        *["-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "aac", "-c:v", "mjpeg"],
        *["-disposition:v", "attached_pic"],
    ],
}

REQUIRED_ENCODERS = {"vp9_opus.webm": ["libvpx-vp9", "libopus"]}


def encoders(ffmpeg: str) -> str:
    return subprocess.run(
        [ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """clip(name) -> path of the test clip `name`, made on first use."""
    folder = tmp_path_factory.mktemp("clips")
    available = encoders(GEN_FFMPEG)

    def make(name: str) -> Path:
        path = folder / name
        if path.exists():
            return path
        missing = [e for e in REQUIRED_ENCODERS.get(name, []) if f" {e} " not in available]
        if missing:
            pytest.skip(f"the test ffmpeg has no {', '.join(missing)} encoder")
        args = [str(make(a[1:])) if a.startswith("@") else a for a in RECIPES[name]]
        cmd = [GEN_FFMPEG, "-nostdin", "-v", "error", "-y", *args, str(path)]
        subprocess.run(cmd, check=True, capture_output=True)
        return path

    return make


def pipeline_ffmpegs() -> list[str]:
    """Every ffmpeg the pipeline may meet here: the one found on PATH (Debian's 5.1 when
    installed) and the imageio-ffmpeg 9 binary."""
    found = [find_ffmpeg(), GEN_FFMPEG]
    return list(dict.fromkeys(found))


def ffmpeg_id(ffmpeg: str) -> str:
    first = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout
    return "ffmpeg-" + first.split()[2][:8] if first else ffmpeg


@pytest.fixture(params=pipeline_ffmpegs(), ids=ffmpeg_id, scope="session")
def ffmpeg(request: pytest.FixtureRequest) -> str:
    return request.param


def has_ffprobe() -> bool:
    return shutil.which("ffprobe") is not None


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """bomb(name) -> path of the hostile file `name` (see tests/bombs.py), made on first use."""
    folder = tmp_path_factory.mktemp("bombs")
    makers: dict[str, Callable[[Path], Path]] = {
        "late_frame.mkv": bombs.late_frame_mkv,
        "late_frame_hidden.mkv": lambda path: bombs.late_frame_mkv(path, hide_duration=True),
        "three_frames_vfr.mkv": bombs.three_frames_vfr,
        "fast_1000fps.mkv": bombs.fast_clip,
        "canvas.gif": bombs.gif_canvas,
        "canvas.h264": bombs.h264_canvas,
        "streams.mkv": bombs.many_streams,
        "streams.mp4": bombs.many_streams,
        "big_black.mkv": bombs.big_black_clip,
    }

    def make(name: str) -> Path:
        path = folder / name
        return path if path.exists() else makers[name](path)

    return make
