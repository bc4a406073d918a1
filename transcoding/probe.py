"""Reading stream information from a file with PyAV (no ffprobe binary needed)."""

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from .errors import InvalidMedia
from .security import av_options, file_url

NOT_ACCEPTED = (
    "This type of file is not accepted. Please upload a video file such as MP4, MOV, AVI, "
    "WMV, FLV or MKV."
)
UNREADABLE = "The file could not be read as a video. It may be damaged, or it may not be a video."
NO_VIDEO = "The file holds no video, only sound or other data. Please upload a video file."

# Reading the first picture (for the rotation) must stay cheap: give up after this many packets.
MAX_PACKETS_FOR_ROTATION = 200


@dataclass(frozen=True)
class VideoStream:
    codec: str  # canonical codec name, e.g. "h264", "flv1", "wmv2"
    pix_fmt: str | None
    width: int  # coded (stored) size
    height: int
    rotation: int  # clockwise rotation to apply for display: 0, 90, 180 or 270
    profile: str | None = None
    sample_aspect_ratio: Fraction = Fraction(1)
    frames: int = 0  # 0 when the container does not say

    @property
    def display_width(self) -> int:
        return self._display_size()[0]

    @property
    def display_height(self) -> int:
        return self._display_size()[1]

    def _display_size(self) -> tuple[int, int]:
        # Non-square pixels stretch the width; a quarter turn swaps the sides.
        width = round(self.width * self.sample_aspect_ratio)
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


@dataclass(frozen=True)
class AudioStream:
    codec: str
    channels: int
    sample_rate: int
    profile: str | None = None


@dataclass(frozen=True)
class MediaInfo:
    format_name: str  # demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float | None  # seconds
    video: VideoStream | None
    audio: AudioStream | None


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe a media file. Raises InvalidMedia when it is not a video we accept.

    Reads the headers and the first picture only, so it is quick enough for an upload request.
    """
    if os.path.getsize(path) == 0:
        raise InvalidMedia("The file is empty.")
    try:
        container = av.open(file_url(path), options=av_options())
    except av.error.ArgumentError as exc:
        # EINVAL is what libavformat returns for a format outside the whitelist.
        raise InvalidMedia(NOT_ACCEPTED, detail=str(exc)) from exc
    except av.error.FFmpegError as exc:
        raise InvalidMedia(UNREADABLE, detail=str(exc)) from exc

    with container:
        duration = container.duration / av.time_base if container.duration else None
        video_streams = [
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic  # skip cover art
        ]
        if not video_streams:
            raise InvalidMedia(NO_VIDEO, detail=f"format {container.format.name}")
        video = _video_stream(container, video_streams[0])
        audio = _audio_stream(container.streams.audio[0]) if container.streams.audio else None
        return MediaInfo(
            format_name=container.format.name, duration=duration, video=video, audio=audio
        )


def _video_stream(container: av.container.InputContainer, stream: av.VideoStream) -> VideoStream:
    ctx = stream.codec_context
    if not ctx.width or not ctx.height:
        raise InvalidMedia(UNREADABLE, detail="video stream without a picture size")
    sar = stream.sample_aspect_ratio
    return VideoStream(
        codec=ctx.codec.canonical_name,
        pix_fmt=ctx.pix_fmt,
        width=ctx.width,
        height=ctx.height,
        rotation=_first_frame_rotation(container, stream),
        profile=stream.profile,
        sample_aspect_ratio=sar if sar and sar > 0 else Fraction(1),
        frames=stream.frames,
    )


def _audio_stream(stream: av.AudioStream) -> AudioStream:
    ctx = stream.codec_context
    return AudioStream(
        codec=ctx.codec.canonical_name,
        channels=ctx.channels,
        sample_rate=ctx.sample_rate,
        profile=stream.profile,
    )


def _first_frame_rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    # PyAV 18 exposes the display matrix only on decoded frames, so decode the first one.
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                return _clockwise(frame.rotation)
            if count >= MAX_PACKETS_FOR_ROTATION:
                break
    except av.error.FFmpegError:
        pass  # a damaged start; ffmpeg itself will decide whether the file converts
    return 0


def _clockwise(counter_clockwise: float) -> int:
    # Like ffmpeg's autorotate: only (near) quarter turns count, anything else is ignored.
    degrees = -counter_clockwise % 360
    quarter = round(degrees / 90) * 90
    return quarter % 360 if abs(degrees - quarter) < 1 else 0
