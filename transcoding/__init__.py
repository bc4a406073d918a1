"""The ffmpeg pipeline: probe an upload, convert it to a browser-ready MP4, take a poster.

Knows nothing of Django. Every ffmpeg/PyAV open is restricted to the one input file
(see security.py), and bounded by what an upload may declare and spend (see limits.py).
"""

from .binary import find_ffmpeg
from .errors import (
    ConversionFailed,
    ConversionTimeout,
    FFmpegNotFound,
    InvalidMedia,
    TranscodingError,
)
from .isolated import ProbeServer, probe_isolated
from .limits import Budget, LimitExceeded, MediaLimits, OutputTooLarge, check_limits
from .plan import Plan, plan_conversion
from .probe import TRUNCATED, AudioStream, MediaInfo, VideoStream, probe
from .run import convert, extract_poster, run_ffmpeg, transcode

__all__ = [
    "TRUNCATED",
    "AudioStream",
    "Budget",
    "ConversionFailed",
    "ConversionTimeout",
    "FFmpegNotFound",
    "InvalidMedia",
    "LimitExceeded",
    "MediaInfo",
    "MediaLimits",
    "OutputTooLarge",
    "Plan",
    "ProbeServer",
    "TranscodingError",
    "VideoStream",
    "check_limits",
    "convert",
    "extract_poster",
    "find_ffmpeg",
    "plan_conversion",
    "probe",
    "probe_isolated",
    "run_ffmpeg",
    "transcode",
]
