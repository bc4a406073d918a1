"""The ffmpeg pipeline: probe an upload, convert it to a browser-ready MP4, take a poster.

Knows nothing of Django. Every ffmpeg/PyAV open is restricted to the one input file
(see security.py).
"""

from .binary import find_ffmpeg
from .errors import (
    ConversionFailed,
    ConversionTimeout,
    FFmpegNotFound,
    InvalidMedia,
    TranscodingError,
)
from .plan import Plan, plan_conversion
from .probe import AudioStream, MediaInfo, VideoStream, probe
from .run import convert, extract_poster, run_ffmpeg, transcode

__all__ = [
    "AudioStream",
    "ConversionFailed",
    "ConversionTimeout",
    "FFmpegNotFound",
    "InvalidMedia",
    "MediaInfo",
    "Plan",
    "TranscodingError",
    "VideoStream",
    "convert",
    "extract_poster",
    "find_ffmpeg",
    "plan_conversion",
    "probe",
    "run_ffmpeg",
    "transcode",
]
