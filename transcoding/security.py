"""Limits on what ffmpeg and PyAV may open: the uploaded file and nothing else.

Playlist-like demuxers (hls, concat, dash, image2 patterns, ...) open further files or URLs named
inside the upload and would copy them into the output. So every open gets a protocol whitelist
(local files only) and a format whitelist of real single-file video containers.

ffmpeg matches the whitelist against each comma-separated name of a demuxer, so "mov" admits
"mov,mp4,m4a,3gp,3g2,mj2" and "matroska" admits "matroska,webm". The hls/concat/dash demuxers
have single names that appear nowhere below.
"""

import os

ALLOWED_DEMUXERS: tuple[str, ...] = (
    "flv",
    "live_flv",
    "asf",  # WMV/WMA
    "avi",
    "mov",  # mov,mp4,m4a,3gp,3g2,mj2
    "matroska",  # matroska,webm
    "mpeg",  # MPEG program stream, VOB
    "mpegts",
    "mpegvideo",
    "h264",
    "hevc",
    "m4v",
    "h263",
    "ogg",
    "rm",
    "dv",
    "nut",
    "mxf",
    "gif",
    "ivf",  # raw VP8/VP9/AV1
    "obu",  # raw AV1
    "vc1",
    "wtv",
)

FORMAT_WHITELIST = ",".join(ALLOWED_DEMUXERS)
PROTOCOL_WHITELIST = "file"


def file_url(path: str | os.PathLike[str]) -> str:
    # The "file:" prefix stops names like "concat:a|b" or "http:..." being read as protocols.
    return "file:" + os.path.abspath(os.fspath(path))


def av_options() -> dict[str, str]:
    """Options for `av.open()` on an untrusted file."""
    return {"protocol_whitelist": PROTOCOL_WHITELIST, "format_whitelist": FORMAT_WHITELIST}


def ffmpeg_input(path: str | os.PathLike[str]) -> list[str]:
    """The ffmpeg command-line words that open an untrusted input file."""
    return [
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-format_whitelist",
        FORMAT_WHITELIST,
        "-i",
        file_url(path),
    ]
