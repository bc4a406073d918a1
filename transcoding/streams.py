"""HLS streams, a storyboard and thumbnails, made beside a converted MP4 (run.convert's).

make_streams() writes, in one ffmpeg run: video.m3u8 + video.m4s, the MP4's own picture
packaged as it is; video-360.m3u8 + video-360.m4s, a smaller picture, when the MP4 is larger;
audio.m3u8 + audio.m4s, the sound packaged as it is, which every rendition shares; and
storyboard.jpg, a sprite of small frames. Then master.m3u8 and storyboard.vtt, the WebVTT
track of the sprite's tiles. Each rendition is one fMP4 file read by byte ranges (few objects
to store), and every link is relative, so the folder can be served as it is.
"""

import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import av
from PIL import Image

from .errors import ConversionFailed, InvalidMedia
from .plan import video_encode_args
from .probe import MediaInfo, probe
from .run import BAD_INPUT, UNLIMITED, run_ffmpeg
from .security import av_options, ffmpeg_input, file_url

MASTER_PLAYLIST = "master.m3u8"
STORYBOARD_TRACK = "storyboard.vtt"
STORYBOARD_IMAGE = "storyboard.jpg"
AUDIO_PLAYLIST = "audio.m3u8"
AUDIO_GROUP = "audio"

SEGMENT_SECONDS = 4  # a target: segments start at the MP4's keyframes
HLS_OUTPUT = [
    *["-f", "hls", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod"],
    *["-hls_flags", "single_file+independent_segments", "-hls_time", str(SEGMENT_SECONDS)],
    # Keep the MP4's own timeline. The default shifts B-frame video later than the sound (by
    # an empty edit) where this keeps the MP4's edit list, which browsers apply.
    *["-avoid_negative_ts", "disabled"],
]
# A re-encoded rendition gets a keyframe where the MP4 has one, and nowhere else, so that its
# segments start where the copied rendition's do.
ALIGNED_KEYFRAMES = ["-force_key_frames", "source", "-sc_threshold", "0", "-g", "1000000"]

# The stream job's ffmpeg runs at the lowest priority: it takes every idle core, and gives
# them up at once to a conversion (which a participant waits for) on the same machine.
NICENESS = 19
STORYBOARD_MAX_TILES = 100
STORYBOARD_COLUMNS = 10
STORYBOARD_TILE_WIDTH = 160
STORYBOARD_QUALITY = "5"  # ffmpeg's JPEG -q:v, 2 (best) to 31

THUMBNAIL_QUALITY = 82
# Posters come from our own ffmpeg (at most 1920x1080): anything far larger is refused unread.
MAX_POSTER_PIXELS = 4096 * 4096
NO_POSTER = "We could not make thumbnails from the video's preview picture."


@dataclass(frozen=True)
class Rendition:
    playlist: str  # e.g. "video.m3u8"; its segments are in the .m4s file of the same name
    width: int
    height: int
    copied: bool  # the MP4's own H.264, not re-encoded
    bandwidth: int = 0  # HLS BANDWIDTH: peak bits a second, the sound's included
    average_bandwidth: int = 0
    codecs: str = ""


@dataclass(frozen=True)
class Streams:
    files: tuple[str, ...]  # relative to the folder, master playlist last: upload in this order
    renditions: tuple[Rendition, ...]  # smallest first, as master.m3u8 lists them
    audio: bool
    duration: float  # seconds
    storyboard_tiles: int
    storyboard_interval: int  # seconds of video a tile stands for
    seconds: float  # how long ffmpeg ran


def make_streams(
    src: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    ffmpeg: str,
    timeout: float,
    memory_bytes: int | None = None,
    small_height: int = 360,
    threads: int = 0,
) -> Streams:
    """Write the HLS renditions, master playlist and storyboard of the MP4 `src` in `folder`.

    The smaller rendition is made only when the picture's shorter side is larger than
    `small_height`; it gets that many lines (columns, upright portrait video). A rotated MP4's
    own picture is re-encoded upright too: Debian's ffmpeg 5.1 drops the rotation when it
    packages. threads: libx264's. Raises ConversionFailed or ConversionTimeout as run_ffmpeg().
    """
    folder = Path(folder)
    try:
        info = probe(src, UNLIMITED)  # our own MP4: only its description is needed
    except InvalidMedia as exc:
        raise ConversionFailed(BAD_INPUT, permanent=True, detail=str(exc)) from exc
    video = info.video
    assert video is not None  # probe() refuses files without
    width, height = video.display_width, video.display_height
    renditions = [Rendition("video.m3u8", width, height, copied=video.rotation == 0)]
    if min(width, height) > small_height:
        long_side = _even(max(width, height) * small_height / min(width, height))
        size = (long_side, small_height) if width >= height else (small_height, long_side)
        # Listed first: Safari starts with the first rendition, and the small one starts at
        # once on any connection; players move up as soon as they have measured it.
        renditions.insert(0, Rendition(f"video-{small_height}.m3u8", *size, copied=False))
    duration = info.duration or 0.0
    interval = max(1, math.ceil(duration / STORYBOARD_MAX_TILES))
    tiles = _last_picture(src) // interval + 1
    tile_height = _even(STORYBOARD_TILE_WIDTH * height / width)

    args = ffmpeg_input(src) + _filters(renditions, tiles, interval, tile_height)
    encoded = 0
    for rendition in renditions:
        if rendition.copied:
            args += ["-map", "0:V:0", "-c:v", "copy"]
        else:
            args += ["-map", f"[r{encoded}]", "-fps_mode", "vfr"]  # every frame, at its time
            encoded += 1
            args += video_encode_args(
                rendition.width, rendition.height, info.frame_rate, threads=threads
            )
            args += ALIGNED_KEYFRAMES
        args += _hls_output(folder, rendition.playlist)
    if info.audio is not None:
        args += ["-map", "0:a:0", "-c:a", "copy", *_hls_output(folder, AUDIO_PLAYLIST)]
    args += ["-map", "[storyboard]", "-frames:v", "1", "-q:v", STORYBOARD_QUALITY]
    args += ["-update", "1", "-f", "image2", file_url(folder / STORYBOARD_IMAGE)]
    started = time.monotonic()
    # Streams come after the entry is ready: a conversion someone waits for goes first.
    run_ffmpeg(ffmpeg, args, timeout=timeout, memory_bytes=memory_bytes, niceness=NICENESS)
    seconds = time.monotonic() - started

    playlists = [r.playlist for r in renditions]
    audio_peak, audio_average, audio_codec = 0, 0, None
    if info.audio is not None:
        playlists.append(AUDIO_PLAYLIST)
        audio_peak, audio_average = _bit_rates(folder / AUDIO_PLAYLIST)
        audio_codec = _codec(folder / _media(AUDIO_PLAYLIST))
    for i, rendition in enumerate(renditions):
        peak, average = _bit_rates(folder / rendition.playlist)
        video_codec = _codec(folder / _media(rendition.playlist))
        renditions[i] = replace(
            rendition,
            bandwidth=peak + audio_peak,
            average_bandwidth=average + audio_average,
            codecs=",".join(filter(None, [video_codec, audio_codec])),
        )
    master = _master_playlist(renditions, info, audio=info.audio is not None)
    (folder / MASTER_PLAYLIST).write_text(master)
    track = _storyboard_track(tiles, interval, duration, STORYBOARD_TILE_WIDTH, tile_height)
    (folder / STORYBOARD_TRACK).write_text(track)

    files = [name for playlist in playlists for name in (_media(playlist), playlist)]
    files += [STORYBOARD_IMAGE, STORYBOARD_TRACK, MASTER_PLAYLIST]
    return Streams(
        files=tuple(files),
        renditions=tuple(renditions),
        audio=info.audio is not None,
        duration=duration,
        storyboard_tiles=tiles,
        storyboard_interval=interval,
        seconds=seconds,
    )


def make_thumbnails(
    poster: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    widths: tuple[int, ...] = (320, 640),
) -> list[str]:
    """Write the poster fitted in a 16:9 box of each width (never enlarged) as
    thumb-<width>.jpg in `folder`, without metadata; return the names."""
    with Image.open(poster) as image:
        # Image.open() reads only the header: refuse a huge picture before decoding it.
        if image.width * image.height > MAX_POSTER_PIXELS:
            detail = f"poster of {image.width}x{image.height}"
            raise ConversionFailed(NO_POSTER, permanent=True, detail=detail)
        # A JPEG decodes straight at 1/2, 1/4 or 1/8 of its size, still no smaller than the
        # largest thumbnail: a third of the time of decoding it whole and shrinking it.
        largest = max(widths)
        image.draft("RGB", (largest, largest * 9 // 16))
        image = image.convert("RGB")
    names = []
    for width in widths:
        thumbnail = image.copy()
        thumbnail.thumbnail((width, width * 9 // 16), Image.Resampling.LANCZOS)
        thumbnail.info.clear()  # Pillow would copy the poster's comment
        names.append(f"thumb-{width}.jpg")
        options = {"quality": THUMBNAIL_QUALITY, "progressive": True, "optimize": True}
        thumbnail.save(Path(folder) / names[-1], "JPEG", **options)
    return names


def _filters(renditions: list[Rendition], tiles: int, interval: int, tile_height: int) -> list[str]:
    """-filter_complex: one decode feeds every re-encoded rendition ([r0], [r1]...) and the
    storyboard ([storyboard])."""
    encoded = [r for r in renditions if not r.copied]
    split = "".join(f"[s{i}]" for i in range(len(encoded)))
    chains = [f"[0:V:0]split={len(encoded) + 1}{split}[frames]"]
    for i, rendition in enumerate(encoded):
        chains.append(f"[s{i}]scale={rendition.width}:{rendition.height},setsar=1[r{i}]")
    # The first picture at or after each multiple of the interval, and no more than the tiles.
    select = f"select='gte(t-start_t,selected_n*{interval})*lt(selected_n,{tiles})'"
    columns = min(tiles, STORYBOARD_COLUMNS)
    rows = math.ceil(tiles / columns)
    chains.append(
        f"[frames]{select},scale={STORYBOARD_TILE_WIDTH}:{tile_height},"
        f"tile={columns}x{rows}[storyboard]"
    )
    return ["-filter_complex", ";".join(chains)]


def _hls_output(folder: Path, playlist: str) -> list[str]:
    media = file_url(folder / _media(playlist))
    return [*HLS_OUTPUT, "-hls_segment_filename", media, file_url(folder / playlist)]


def _media(playlist: str) -> str:
    """The fMP4 file that holds a playlist's segments: video.m3u8's is video.m4s."""
    return playlist.removesuffix(".m3u8") + ".m4s"


def _last_picture(src: str | os.PathLike[str]) -> int:
    """Whole seconds from the first picture to the last one: which storyboard tiles exist."""
    with av.open(file_url(src), container_options=av_options()) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        # Only the last keyframe's group of pictures is read.
        container.seek(start + (stream.duration or 0), stream=stream, backward=True)
        last = max((p.pts for p in container.demux(stream) if p.pts is not None), default=start)
    return int((last - start) * stream.time_base)


def _bit_rates(playlist: Path) -> tuple[int, int]:
    """Peak and average bits a second of a media playlist's segments. The peak is HLS's: the
    highest of any run of segments lasting 0.5 to 1.5 target durations, so that a short last
    segment holding a whole keyframe does not count as a peak."""
    target, segments, seconds = 0.0, [], 0.0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.partition(":")[2])
        elif line.startswith("#EXTINF:"):
            seconds = float(line.partition(":")[2].split(",")[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            segments.append((seconds, int(line.partition(":")[2].split("@")[0])))
    average = sum(size for _, size in segments) * 8 / sum(s for s, _ in segments)
    peak = average
    for start in range(len(segments)):
        total_seconds, total_bytes = 0.0, 0
        for seconds, size in segments[start:]:
            total_seconds, total_bytes = total_seconds + seconds, total_bytes + size
            if total_seconds > 1.5 * target:
                break
            if total_seconds >= 0.5 * target:
                peak = max(peak, total_bytes * 8 / total_seconds)
    return math.ceil(peak), math.ceil(average)


def _codec(media: Path) -> str:
    """The RFC 6381 name of the fMP4 file's stream, from its decoder configuration: H.264's
    avc1.PPCCLL (profile, constraint flags and level of its avcC box), or AAC's mp4a.40.N (the
    object type of its AudioSpecificConfig; 2 is AAC-LC)."""
    with av.open(file_url(media), container_options=av_options()) as container:
        context = container.streams[0].codec_context
        config = context.extradata or b""
    if context.type == "audio" and config:
        return f"mp4a.40.{config[0] >> 3}"
    if context.type == "video" and len(config) >= 4 and config[0] == 1:
        return "avc1." + config[1:4].hex()
    detail = f"{media.name}: no decoder configuration"
    raise ConversionFailed(BAD_INPUT, permanent=True, detail=detail)


def _master_playlist(renditions: list[Rendition], info: MediaInfo, *, audio: bool) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",'
            f'DEFAULT=YES,AUTOSELECT=YES,URI="{AUDIO_PLAYLIST}"'
        )
    for r in renditions:
        attributes = f"BANDWIDTH={r.bandwidth},AVERAGE-BANDWIDTH={r.average_bandwidth}"
        attributes += f',CODECS="{r.codecs}",RESOLUTION={r.width}x{r.height}'
        if info.frame_rate:
            attributes += f",FRAME-RATE={float(info.frame_rate):.3f}"
        if audio:
            attributes += f',AUDIO="{AUDIO_GROUP}"'
        lines += [f"#EXT-X-STREAM-INF:{attributes}", r.playlist]
    return "\n".join(lines) + "\n"


def _storyboard_track(tiles: int, interval: int, duration: float, width: int, height: int) -> str:
    """WebVTT: a cue per tile, pointing at its place in the sprite; the last ends the video."""
    columns = min(tiles, STORYBOARD_COLUMNS)
    lines = ["WEBVTT", ""]
    for i in range(tiles):
        start, end = i * interval, duration if i == tiles - 1 else (i + 1) * interval
        x, y = i % columns * width, i // columns * height
        lines += [f"{_vtt_time(start)} --> {_vtt_time(max(start, end))}"]
        lines += [f"{STORYBOARD_IMAGE}#xywh={x},{y},{width},{height}", ""]
    return "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02}:{minutes:02}:{rest // 1000:02}.{rest % 1000:03}"


def _even(size: float) -> int:
    return max(2, round(size / 2) * 2)
