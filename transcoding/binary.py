"""Locating the ffmpeg binary."""

import os
import shutil

from .errors import FFmpegNotFound


def find_ffmpeg(configured: str = "ffmpeg") -> str:
    """Return the path of a usable ffmpeg.

    `configured` is a bare name looked up on PATH, or a path. When it cannot be found we fall
    back to the static ffmpeg shipped in the imageio-ffmpeg wheel, so a machine without a
    system ffmpeg still works.
    """
    if os.sep in configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
    else:
        found = shutil.which(configured)
        if found:
            return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise FFmpegNotFound(
            "The video converter is not installed on the server.",
            detail=f"ffmpeg {configured!r} not found and no imageio-ffmpeg fallback: {exc}",
        ) from exc
