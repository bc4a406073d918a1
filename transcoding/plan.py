"""Deciding how to turn a probed input into a browser-ready MP4.

The encoding recipe (preset, quality, bitrate ceiling, audio bitrate) was chosen with
bench/encoding.py; docs/PERFORMANCE.md ("Encoding recipe") has the figures behind each number.
"""

from dataclasses import dataclass
from fractions import Fraction

from .probe import MediaInfo, VideoStream

# What every current browser plays inside MP4.
BROWSER_H264_PROFILES = {"Baseline", "Constrained Baseline", "Main", "High"}
BROWSER_AAC_PROFILES = {"LC", "HE-AAC", "HE-AACv2"}
# Containers whose H.264/AAC timestamps can be copied into MP4 as they are. AVI and raw
# streams have no reliable timestamps, so those are always re-encoded.
COPYABLE_CONTAINERS = {"mov", "mp4", "matroska", "webm", "flv", "live_flv", "mpegts"}

X264_PRESET = "veryfast"
X264_CRF = "23"
# The bitrate ceiling (x264's VBV: -maxrate, with BUFSIZE_FACTOR times that as -bufsize), so
# that grain and noise, which no quality setting compresses, cannot make a file no phone can
# stream. Bits per pixel of one frame at 30 frames a second, by the picture's short side: the
# row of the largest side not above it holds.
CEILING_BITS_PER_PIXEL = ((0, 0.17), (360, 0.15), (480, 0.12), (720, 0.11), (1080, 0.10))
# Up to 30 fps the ceiling is proportional to the frame rate; above, frames differ less from
# each other and it grows as (fps / 30) ** CEILING_FPS_EXPONENT, and not past 60 fps.
CEILING_FPS_EXPONENT = 0.6
CEILING_FPS_RANGE = (10, 60)
BUFSIZE_FACTOR = 2
# Interlaced input: ffmpeg's bob-weaver deinterlacer, on pictures flagged interlaced only.
DEINTERLACE = "bwdif=mode=send_frame:parity=auto:deint=interlaced"
# A keyframe at least this often (x264 adds its own at scene cuts): the HLS stream packaged from
# the MP4 cuts its segments at keyframes, and players start and switch renditions at segments.
KEYFRAME_SECONDS = 6  # as Apple advises for HLS segments
# AAC-LC: this much a channel, and at most two channels.
AUDIO_BITRATE_PER_CHANNEL = 64_000  # bits a second


@dataclass(frozen=True)
class Plan:
    remux: bool  # True: both streams are copied, nothing is re-encoded
    width: int  # display size of the output
    height: int
    ffmpeg_args: list[str]  # output options, between the input and the output path
    max_video_bitrate: int | None = None  # bits a second: the ceiling of a re-encoded picture


def max_video_bitrate(width: int, height: int, frame_rate: float | None) -> int:
    """The ceiling, in bits a second, of a width x height picture at frame_rate (None: 30)."""
    short = min(width, height)
    bits_per_pixel = next(v for side, v in reversed(CEILING_BITS_PER_PIXEL) if short >= side)
    low, high = CEILING_FPS_RANGE
    fps = min(max(float(frame_rate or 30), low), high)
    frames = fps if fps <= 30 else 30 * (fps / 30) ** CEILING_FPS_EXPONENT
    return int(bits_per_pixel * width * height * frames)


def video_encode_args(
    width: int, height: int, frame_rate: float | None, *, threads: int = 0
) -> list[str]:
    """libx264 options: constant quality under the ceiling for this size and frame rate."""
    ceiling = max_video_bitrate(width, height, frame_rate)
    args = ["-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF, "-profile:v", "high"]
    args += ["-maxrate", str(ceiling), "-bufsize", str(ceiling * BUFSIZE_FACTOR)]
    args += ["-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_SECONDS})"]
    if threads:
        args += ["-threads", str(threads)]
    return args


def audio_encode_args(channels: int) -> list[str]:
    channels = min(max(channels, 1), 2)
    return ["-c:a", "aac", "-b:a", f"{AUDIO_BITRATE_PER_CHANNEL * channels // 1000}k"]


def plan_conversion(
    info: MediaInfo,
    *,
    max_long_side: int = 1920,
    max_short_side: int = 1080,
    threads: int = 0,
    audio_filter: str | None = None,
) -> Plan:
    """How to convert `info`'s file. threads: libx264's threads (0: its own choice, 1.5 a
    core), for a machine that runs several conversions at once. audio_filter: an -af chain
    for the sound (loudness.audio_filter()); the sound is then re-encoded, never copied."""
    video = info.video
    if video is None:
        raise ValueError("plan_conversion() needs a video stream; probe() rejects files without")
    width, height = _fit(video, max_long_side, max_short_side)
    copy_video = (
        _copyable_container(info.format_name)
        and video.codec == "h264"
        and video.pix_fmt == "yuv420p"
        and video.profile in BROWSER_H264_PROFILES
        and video.sample_aspect_ratio == 1
        and video.width % 2 == 0
        and video.height % 2 == 0
        and (width, height) == (video.display_width, video.display_height)
        and not video.interlaced  # browsers show fields combed
    )
    audio = info.audio
    copy_audio = (
        audio is not None
        and audio_filter is None
        and _copyable_container(info.format_name)
        and audio.codec == "aac"
        and audio.channels <= 2
        and audio.profile in BROWSER_AAC_PROFILES
    )

    # Only the first real video (0:V skips cover art) and the first audio stream; no
    # subtitles, data streams, chapters or metadata (phones store the GPS position there).
    args = ["-map", "0:V:0"]
    if audio is not None:
        args += ["-map", "0:a:0"]
    args += ["-map_metadata", "-1", "-map_chapters", "-1"]

    if copy_video:
        args += ["-c:v", "copy"]  # the display matrix (rotation) is copied along
    else:
        # ffmpeg has already rotated the picture upright (autorotate) before this filter, so
        # the display size is the target; setsar=1 gives square pixels. out_range=tv: ffmpeg 7+
        # would otherwise keep the full range of MJPEG/phone input (yuvj420p).
        args += video_encode_args(width, height, video.frame_rate, threads=threads)
        scale = f"scale={width}:{height}:out_range=tv,setsar=1"
        if video.interlaced:
            # One frame from each pair of fields (same frame rate), before any scaling mixes
            # the fields; pictures flagged progressive (mixed content) pass through.
            scale = f"{DEINTERLACE},{scale}"
        args += ["-vf", scale, "-pix_fmt", "yuv420p"]
        # Keep each frame at its own time. MP4's default (cfr) fills gaps with copies: three
        # frames with the last at 10 hours would come out as 900,001 frames at 25 fps. vfr
        # drops only frames that share a timestamp, which MP4 cannot hold anyway.
        args += ["-fps_mode", "vfr"]

    if audio is None:
        args += ["-an"]
    elif copy_audio:
        args += ["-c:a", "copy"]
    else:
        if audio_filter:
            args += ["-af", audio_filter]
        args += audio_encode_args(audio.channels)
        if audio.channels > 2:
            args += ["-ac", "2"]

    args += ["-movflags", "+faststart"]
    return Plan(
        remux=copy_video and (audio is None or copy_audio),
        width=width,
        height=height,
        ffmpeg_args=args,
        max_video_bitrate=None
        if copy_video
        else max_video_bitrate(width, height, video.frame_rate),
    )


def _fit(video: VideoStream, max_long_side: int, max_short_side: int) -> tuple[int, int]:
    """Display size scaled down (never up) to the limits, both sides even."""
    width, height = video.display_width, video.display_height
    scale = min(
        Fraction(1),
        Fraction(max_long_side, max(width, height)),
        Fraction(max_short_side, min(width, height)),
    )
    return _even(width * scale), _even(height * scale)


def _even(size: Fraction) -> int:
    # libx264 with yuv420p needs even sizes; round down so the limits still hold.
    return max(2, int(size) // 2 * 2)


def _copyable_container(format_name: str) -> bool:
    return any(name in COPYABLE_CONTAINERS for name in format_name.split(","))
