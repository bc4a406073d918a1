"""Reading stream information from a file with PyAV (no ffprobe binary needed)."""

import contextlib
import os
from dataclasses import dataclass, field
from fractions import Fraction

import av

from .errors import InvalidMedia
from .limits import LimitExceeded, MediaLimits, check_limits
from .security import av_options, file_url
from .truncation import is_truncated

NOT_ACCEPTED = (
    "This type of file is not accepted. Please upload a video file such as MP4, MOV, AVI, "
    "WMV, FLV or MKV."
)
UNREADABLE = "The file could not be read as a video. It may be damaged, or it may not be a video."
NO_VIDEO = "The file holds no video, only sound or other data. Please upload a video file."
NEEDS_MEMORY = "The file needs more memory than this site allows to read it."
TRUNCATED = (
    "The file is incomplete: it ends before the size it announces, as when an upload or a copy "
    "stops early. Please upload the whole file."
)

# A decoder name that does not exist, as libav's codec whitelist: no decoder may open.
NO_DECODER = "-"

# libav's AVFieldOrder values of interlaced video: TT, BB, TB, BT (0 unknown, 1 progressive).
INTERLACED_FIELD_ORDERS = {2, 3, 4, 5}
# Reading the first picture (for the rotation) must stay cheap: give up after this many packets.
MAX_PACKETS_FOR_ROTATION = 200
# A poster is the first keyframe from this many seconds in (past a fade from black), or from
# the middle of shorter clips.
POSTER_SECONDS = 1.0
POSTER_QUALITY = 90  # JPEG
# How far past that moment a keyframe is looked for, in seconds and in packets read; past it,
# the last keyframe before the moment is taken.
POSTER_SEARCH = 3.0
POSTER_MAX_PACKETS = 2000
# PIL's transposition that turns a picture this many degrees clockwise.
_CLOCKWISE = {90: "ROTATE_270", 180: "ROTATE_180", 270: "ROTATE_90"}


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
    frame_rate: Fraction | None = None  # frames a second on average (else guessed); None: unknown
    interlaced: bool = False  # two fields a frame, as the headers or the first picture say

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
    streams: int = 0  # every stream in the file: pictures, sound, subtitles, data...
    # Set by convert() on the info of what it made: the source's integrated loudness (LUFS)
    # before it was normalized; None when it has no sound or it was not measured.
    source_loudness: float | None = field(default=None, compare=False)

    @property
    def frame_rate(self) -> Fraction | None:
        return self.video.frame_rate if self.video else None


def probe(path: str | os.PathLike[str], limits: MediaLimits | None = None) -> MediaInfo:
    """Describe a media file. Raises InvalidMedia when it is not a video we accept, and
    LimitExceeded (an InvalidMedia) when it declares more than `limits` (default MediaLimits()).

    Reads the headers and the first picture only, so it is quick enough for an upload request.
    The limits are checked from the headers before any decoder runs, and libav is told them
    too, so a picture larger than the limits is never decoded and a stream past the limit never
    made. What a header can hide from these checks still costs this process: read untrusted
    files with probe_isolated().
    """
    limits = limits or MediaLimits()
    if os.path.getsize(path) == 0:
        raise InvalidMedia("The file is empty.")
    if is_truncated(path):
        raise InvalidMedia(TRUNCATED, detail="the file ends before the size its container states")
    with _open(path, limits, decoders=False) as container:
        check_limits(_declared(container), limits)
    with _open(path, limits, decoders=True) as container:
        info = _described(container, limits)
    check_limits(info, limits)  # the decoders may know more than the headers said
    return info


def _open(
    path: str | os.PathLike[str], limits: MediaLimits, *, decoders: bool
) -> av.container.InputContainer:
    container_options = {**av_options(), "max_streams": str(limits.format_max_streams())}
    if decoders:
        # Read by the decoders avformat_find_stream_info() runs for each stream it knows.
        options = {"max_pixels": str(limits.decoder_max_pixels())}
    else:
        # No decoder may open: avformat_find_stream_info() learns what the demuxer and the
        # parsers can tell from the headers alone, and allocates no picture.
        container_options["codec_whitelist"] = NO_DECODER
        options = {}
    try:
        return av.open(file_url(path), options=options, container_options=container_options)
    except av.error.MemoryError as exc:
        if decoders:
            raise InvalidMedia(NEEDS_MEMORY, detail=str(exc)) from exc
        # Most demuxers (mov, avi...) refuse a stream past max_streams as ENOMEM; nothing
        # else allocates much while only the headers are read.
        raise LimitExceeded(
            "streams",
            allowed=limits.max_streams,
            actual=limits.format_max_streams(),
            detail=str(exc),
        ) from exc
    except av.error.ArgumentError as exc:
        # EINVAL is what libavformat returns for a format outside the whitelist.
        raise InvalidMedia(NOT_ACCEPTED, detail=str(exc)) from exc
    except av.error.FFmpegError as exc:
        raise InvalidMedia(UNREADABLE, detail=str(exc)) from exc


def _video_streams(container: av.container.InputContainer) -> list[av.VideoStream]:
    return [
        s
        for s in container.streams.video
        if not s.disposition & av.stream.Disposition.attached_pic  # skip cover art
    ]


def _declared(container: av.container.InputContainer) -> MediaInfo:
    """What the headers say, before any decoding: enough to check the limits."""
    videos = _video_streams(container)
    video = None
    if videos and videos[0].codec_context:
        ctx = videos[0].codec_context
        video = VideoStream(
            codec=ctx.codec.canonical_name,
            pix_fmt=None,
            width=ctx.width,  # 0 when only a decoder could tell
            height=ctx.height,
            rotation=0,
            frame_rate=_frame_rate(videos[0]),
        )
    return MediaInfo(
        format_name=container.format.name,
        duration=_duration(container),
        video=video,
        audio=None,
        streams=len(container.streams),
    )


def _described(container: av.container.InputContainer, limits: MediaLimits) -> MediaInfo:
    video_streams = _video_streams(container)
    if not video_streams:
        raise InvalidMedia(NO_VIDEO, detail=f"format {container.format.name}")
    audio_streams = [s for s in container.streams.audio if s.codec_context]
    return MediaInfo(
        format_name=container.format.name,
        duration=_duration(container),
        video=_video_stream(container, video_streams[0], limits),
        audio=_audio_stream(audio_streams[0]) if audio_streams else None,
        streams=len(container.streams),
    )


def _duration(container: av.container.InputContainer) -> float | None:
    return container.duration / av.time_base if container.duration else None


def _frame_rate(stream: av.VideoStream) -> Fraction | None:
    # The average over what the demuxer saw; the guess (from the time base) only without it.
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate) if rate and rate > 0 else None


def _video_stream(
    container: av.container.InputContainer, stream: av.VideoStream, limits: MediaLimits
) -> VideoStream:
    ctx = stream.codec_context
    if ctx is None or not ctx.width or not ctx.height:
        raise InvalidMedia(UNREADABLE, detail="video stream without a decoder or picture size")
    sar = stream.sample_aspect_ratio
    # Fields, not frames: the codec's field order (from the headers), or the first picture.
    interlaced_fields = ctx.field_order in INTERLACED_FIELD_ORDERS
    rotation, interlaced_frame = _first_frame(container, stream, limits)
    return VideoStream(
        codec=ctx.codec.canonical_name,
        pix_fmt=ctx.pix_fmt,
        width=ctx.width,
        height=ctx.height,
        rotation=rotation,
        profile=stream.profile,
        sample_aspect_ratio=sar if sar and sar > 0 else Fraction(1),
        frames=stream.frames,
        frame_rate=_frame_rate(stream),
        interlaced=interlaced_fields or interlaced_frame,
    )


def _audio_stream(stream: av.AudioStream) -> AudioStream:
    ctx = stream.codec_context
    return AudioStream(
        codec=ctx.codec.canonical_name,
        channels=ctx.channels,
        sample_rate=ctx.sample_rate,
        profile=stream.profile,
    )


def _first_frame(
    container: av.container.InputContainer, stream: av.VideoStream, limits: MediaLimits
) -> tuple[int, bool]:
    """The first picture's rotation (clockwise degrees) and whether it is interlaced."""
    # PyAV 18 exposes the display matrix only on decoded frames, so decode the first one.
    # PyAV's own decoder does not see av.open()'s options: bound it here. One thread, so the
    # first picture comes out first and no thread allocates pictures ahead.
    stream.codec_context.options = {"max_pixels": str(limits.decoder_max_pixels())}
    stream.codec_context.thread_count = 1
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                return _clockwise(frame.rotation), bool(frame.interlaced_frame)
            if count >= MAX_PACKETS_FOR_ROTATION:
                break
    except av.error.MemoryError as exc:
        raise InvalidMedia(NEEDS_MEMORY, detail=str(exc)) from exc
    except av.error.FFmpegError:
        pass  # a damaged start; ffmpeg itself will decide whether the file converts
    return 0, False


def _clockwise(counter_clockwise: float) -> int:
    # Like ffmpeg's autorotate: only (near) quarter turns count, anything else is ignored.
    degrees = -counter_clockwise % 360
    quarter = round(degrees / 90) * 90
    return quarter % 360 if abs(degrees - quarter) < 1 else 0


def poster_moment(duration: float | None) -> float:
    """Where a poster is taken: POSTER_SECONDS in, or the middle of shorter clips."""
    if duration is None or duration >= 2 * POSTER_SECONDS:
        return POSTER_SECONDS
    return duration / 2


def write_poster(
    path: str | os.PathLike[str],
    jpeg: str | os.PathLike[str],
    *,
    info: MediaInfo,
    size: tuple[int, int],
    limits: MediaLimits | None = None,
) -> bool:
    """Write a JPEG of `size` (upright, square pixels) of the first keyframe from
    poster_moment() on, else the last one before it. False when no picture could be decoded.

    Decodes the untrusted file: run it where probe() runs, in a bounded child (probe_child
    does, when asked for a poster). Only keyframes are decoded (phones put one every second or
    two), with one thread, within the decoders' max_pixels.
    """
    from PIL import Image  # only a child that writes posters needs it (the server preloads it)

    limits = limits or MediaLimits()
    chosen = None
    with _open(path, limits, decoders=True) as container:
        stream = _video_streams(container)[0]
        context = stream.codec_context
        context.options = {"max_pixels": str(limits.decoder_max_pixels())}
        context.thread_count = 1
        context.skip_frame = "NONKEY"
        base = stream.time_base or Fraction(1, 1000)
        start = float((stream.start_time or 0) * base)
        at = start + poster_moment(info.duration)
        with contextlib.suppress(av.error.FFmpegError):  # unseekable: from the start
            container.seek(int(at / base), stream=stream, backward=True)

        def reached(frame) -> bool:
            return frame.time is not None and frame.time >= at

        try:
            for count, packet in enumerate(container.demux(stream)):
                for frame in packet.decode():
                    chosen = frame
                late = packet.pts is not None and float(packet.pts * base) > at + POSTER_SEARCH
                if (chosen is not None and reached(chosen)) or late or count >= POSTER_MAX_PACKETS:
                    break
            if chosen is None or not reached(chosen):
                # The decoder holds pictures back to reorder them: let it give them up.
                for frame in context.decode(None):
                    if chosen is None or not reached(chosen):
                        chosen = frame
        except av.error.FFmpegError:
            pass  # a damaged file: the last good keyframe, if any
        if chosen is None:
            return False
        rotation = info.video.rotation if info.video else 0
        # Scaled (square pixels) and made RGB in one pass, then turned upright.
        width, height = size[::-1] if rotation in (90, 270) else size
        image = chosen.to_image(width=width, height=height, interpolation="BILINEAR")
    if rotation in _CLOCKWISE:
        image = image.transpose(getattr(Image.Transpose, _CLOCKWISE[rotation]))
    image.save(jpeg, "JPEG", quality=POSTER_QUALITY)
    return True
