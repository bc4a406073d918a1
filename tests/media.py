"""Real video files for the tests, made by ffmpeg from its built-in test sources."""

import os
import random
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

# The static ffmpeg from the wheel: it has the lavfi sources and every encoder used here.
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

CODECS = {
    ".flv": ["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100"],
    ".wmv": ["-c:v", "wmv2", "-c:a", "wmav2"],
    ".avi": ["-c:v", "mpeg4", "-q:v", "4", "-c:a", "libmp3lame"],
    ".mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
}


def make_clip(path: Path, *, seconds: float = 1, size: str = "320x240", rate: int = 25) -> Path:
    """A clip with a moving test picture and a tone, in the format the file's suffix names."""
    command = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
        *CODECS[path.suffix], "-shortest", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=300)
    return path


def make_noisy_clip(path: Path, *, seconds: float, size: str = "1280x720") -> Path:
    """A clip that is slow to encode (random noise), to catch a conversion in the act."""
    command = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
        "-vf", "noise=alls=60:allf=t", *CODECS[path.suffix][:4], "-an", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=600)
    return path


def make_damaged_clip(path: Path) -> Path:
    """An AVI whose header is whole (it passes the upload check) but whose frames are noise."""
    make_clip(path, seconds=2)
    data = path.read_bytes()
    frames_start = data.find(b"movi") + 4
    noise = random.Random(7).randbytes(len(data) - frames_start)
    path.write_bytes(data[:frames_start] + noise)
    return path


def require_ffprobe() -> str:
    """ffprobe reads our output independently. CI must have it; elsewhere its checks skip."""
    path = shutil.which("ffprobe")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("ffprobe is required in CI (apt-get install ffmpeg)")
    pytest.skip("ffprobe is not installed (apt-get install ffmpeg); checked with PyAV only")


def entry_fields(path: Path, **fields) -> dict:
    """An entry's form fields and its open file, for the test client (which closes it)."""
    data = {
        "first_name": "Ana",
        "last_name": "Diaz",
        "email": "ana@example.com",
        "message": "Hola!",
    }
    data.update(fields)
    data["file"] = open(path, "rb")  # noqa: SIM115 - the test client reads and closes it
    return data
