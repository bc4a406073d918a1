"""HLS renditions, storyboard and thumbnails made from converted MP4s, with every ffmpeg found:
what hls.js and Safari need, read back with PyAV, Pillow and ffprobe."""

import json
import re
import struct
import subprocess
import zlib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.media import FFMPEG, make_clip, require_ffprobe
from transcoding import ConversionFailed, convert
from transcoding.plan import KEYFRAME_SECONDS
from transcoding.streams import (
    MASTER_PLAYLIST,
    STORYBOARD_IMAGE,
    STORYBOARD_TRACK,
    Streams,
    make_streams,
    make_thumbnails,
)

SECONDS = 6
# As convert() writes them: H.264 High with B-frames, yuv420p, AAC, faststart. A keyframe
# every 2 s, so that there are several segments.
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "20"]
MP4 = [*X264, "-profile:v", "high", "-level", "3.1", "-c:a", "aac", "-movflags", "+faststart"]
# name -> size, frames a second, seconds, options
RECIPES = {
    "720p.mp4": ("1280x720", 10, SECONDS, MP4),
    "360p.mp4": ("640x360", 10, SECONDS, MP4),
    "silent.mp4": ("854x480", 10, SECONDS, [*MP4, "-an"]),
    "portrait.mp4": ("720x1280", 10, SECONDS, MP4),
    "long.mp4": ("160x90", 1, 250, MP4),
}


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Callable[[str], Path]:
    """mp4(name) -> a converted-like MP4 of RECIPES (or "rotated.mp4"), made on first use."""
    folder = tmp_path_factory.mktemp("mp4s")

    def make(name: str) -> Path:
        path = folder / name
        if path.exists():
            return path
        if name == "rotated.mp4":  # a phone's H.264, which convert() copies with its rotation
            args = ["-display_rotation", "90", "-i", str(make("720p.mp4")), "-c", "copy"]
        else:
            size, rate, seconds, options = RECIPES[name]
            args = [
                *["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"],
                *["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"],
                *options,
            ]
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args, str(path)], check=True)
        return path

    return make


@pytest.fixture(scope="module")
def streams(mp4, ffmpeg, tmp_path_factory) -> Callable[[str], tuple[Path, Streams]]:
    """streams(name) -> the folder and result of make_streams() on mp4(name), made once."""
    made: dict[str, tuple[Path, Streams]] = {}

    def make(name: str) -> tuple[Path, Streams]:
        if name not in made:
            folder = tmp_path_factory.mktemp("streams")
            made[name] = folder, make_streams(mp4(name), folder, ffmpeg=ffmpeg, timeout=60)
        return made[name]

    return make


def variants(folder: Path) -> list[tuple[dict[str, str], str]]:
    """(attributes, uri) of each EXT-X-STREAM-INF of the master playlist."""
    lines = (folder / MASTER_PLAYLIST).read_text().splitlines()
    return [
        (attributes(line), lines[i + 1])
        for i, line in enumerate(lines)
        if line.startswith("#EXT-X-STREAM-INF:")
    ]


def attributes(line: str) -> dict[str, str]:
    found = re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.partition(":")[2])
    return {name: value.strip('"') for name, value in found}


def uris(playlist: Path) -> list[str]:
    """Every link of a playlist: its URI lines and URI= attributes."""
    text = playlist.read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return lines + re.findall(r'URI="([^"]*)"', text)


def segment_starts(playlist: Path) -> list[float]:
    durations = re.findall(r"#EXTINF:([\d.]+),", playlist.read_text())
    starts, at = [], 0.0
    for duration in durations:
        starts.append(round(at, 3))
        at += float(duration)
    return starts


def video_packets(path: Path) -> list[tuple[Fraction, bool, bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            (packet.pts * stream.time_base, packet.is_keyframe, bytes(packet))
            for packet in container.demux(stream)
            if packet.size
        ]


def keyframe_times(path: Path) -> list[float]:
    return [round(float(pts), 3) for pts, key, _ in video_packets(path) if key]


def picture_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def test_a_720p_mp4_gets_its_own_picture_and_a_360p_one_smallest_first(streams):
    folder, made = streams("720p.mp4")
    assert [(v["RESOLUTION"], uri) for v, uri in variants(folder)] == [
        ("640x360", "video-360.m3u8"),
        ("1280x720", "video.m3u8"),
    ]
    assert [(r.height, r.copied) for r in made.renditions] == [(360, False), (720, True)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(made.files)  # nothing else
    assert made.files[-1] == MASTER_PLAYLIST
    for name in made.files:
        if name.endswith(".m3u8"):
            assert all("/" not in uri and ":" not in uri for uri in uris(folder / name)), name


def test_a_360p_mp4_gets_only_its_own_picture(streams):
    folder, made = streams("360p.mp4")
    assert [(v["RESOLUTION"], uri) for v, uri in variants(folder)] == [("640x360", "video.m3u8")]
    assert not (folder / "video-360.m3u8").exists()


def test_the_full_size_rendition_is_the_mp4s_own_video_packaged(streams, mp4):
    folder, _ = streams("720p.mp4")
    assert video_packets(folder / "video.m4s") == video_packets(mp4("720p.mp4"))
    with av.open(str(mp4("720p.mp4"))) as source, av.open(str(folder / "video.m4s")) as copy:
        extradata = source.streams.video[0].codec_context.extradata
        assert copy.streams.video[0].codec_context.extradata == extradata


def test_the_small_rendition_has_360_lines_and_keyframes_where_the_segments_start(streams, mp4):
    folder, _ = streams("720p.mp4")
    assert picture_size(folder / "video-360.m4s") == (640, 360)
    keyframes = keyframe_times(folder / "video-360.m4s")
    assert keyframes == keyframe_times(mp4("720p.mp4"))
    starts = segment_starts(folder / "video-360.m3u8")
    assert starts == segment_starts(folder / "video.m3u8")
    assert len(starts) > 1 and set(starts) <= set(keyframes)


def test_both_renditions_share_the_sound_packaged_on_its_own(streams):
    folder, _ = streams("720p.mp4")
    master = (folder / MASTER_PLAYLIST).read_text()
    media = attributes(next(li for li in master.splitlines() if li.startswith("#EXT-X-MEDIA:")))
    assert media == {
        "TYPE": "AUDIO",
        "GROUP-ID": "audio",
        "NAME": "Audio",
        "DEFAULT": "YES",
        "AUTOSELECT": "YES",
        "URI": "audio.m3u8",
    }
    assert all(v["AUDIO"] == "audio" for v, _ in variants(folder))
    with av.open(str(folder / "audio.m4s")) as audio:
        assert [s.codec_context.name for s in audio.streams] == ["aac"]
    with av.open(str(folder / "video.m4s")) as video:
        assert [s.type for s in video.streams] == ["video"]


def test_an_mp4_without_sound_gets_no_audio_rendition(streams):
    folder, made = streams("silent.mp4")
    assert not made.audio and not (folder / "audio.m3u8").exists()
    assert "#EXT-X-MEDIA" not in (folder / MASTER_PLAYLIST).read_text()
    found = variants(folder)
    assert [v["RESOLUTION"] for v, _ in found] == ["640x360", "854x480"]
    assert all(
        "AUDIO" not in v and re.fullmatch(r"avc1\.[0-9a-f]{6}", v["CODECS"]) for v, _ in found
    )


@pytest.mark.parametrize("name", ["portrait.mp4", "rotated.mp4"])
def test_portrait_video_gets_a_small_rendition_360_wide(streams, name):
    folder, made = streams(name)
    assert [v["RESOLUTION"] for v, _ in variants(folder)] == ["360x640", "720x1280"]
    assert picture_size(folder / "video-360.m4s") == (360, 640)
    # A rotated MP4's picture is re-encoded upright: not every player turns a stream.
    assert picture_size(folder / "video.m4s") == (720, 1280)
    assert made.renditions[1].copied == (name == "portrait.mp4")
    assert "xywh=0,0,160,284\n" in (folder / STORYBOARD_TRACK).read_text()


@pytest.mark.parametrize("name", ["720p.mp4", "portrait.mp4", "long.mp4"])
def test_the_storyboard_cues_cover_the_video_and_point_inside_the_sprite(streams, name):
    folder, made = streams(name)
    text = (folder / STORYBOARD_TRACK).read_text()
    assert text.startswith("WEBVTT\n")
    cues = re.findall(r"(\S+) --> (\S+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)\n", text)
    assert len(cues) == made.storyboard_tiles <= 100
    with Image.open(folder / STORYBOARD_IMAGE) as sprite:
        size = sprite.size
    end = "00:00:00.000"
    for start, stop, image, *xywh in cues:
        assert (start, image) == (end, STORYBOARD_IMAGE)  # contiguous
        x, y, w, h = map(int, xywh)
        assert w == 160 and x + w <= size[0] and y + h <= size[1]
        end = stop
    assert end == {"long.mp4": "00:04:10.000"}.get(name, "00:00:06.000")


def test_the_codecs_are_read_from_the_streams(streams):
    folder, _ = streams("720p.mp4")
    codecs = [v["CODECS"] for v, _ in variants(folder)]
    # libx264 chooses the small one's level; the MP4's is High at level 3.1.
    assert re.fullmatch(r"avc1\.6400[0-9a-f]{2},mp4a\.40\.2", codecs[0])
    assert codecs[1] == "avc1.64001f,mp4a.40.2"


def test_the_bandwidths_are_measured(streams):
    folder, made = streams("720p.mp4")
    found = [(int(v["BANDWIDTH"]), int(v["AVERAGE-BANDWIDTH"])) for v, _ in variants(folder)]
    assert found == [(r.bandwidth, r.average_bandwidth) for r in made.renditions]
    assert all(peak >= average > 0 for peak, average in found)
    assert found[0][0] < found[1][0]


def test_ffprobe_plays_the_master_playlist_to_the_end(streams, mp4):
    ffprobe = require_ffprobe()
    folder, _ = streams("720p.mp4")

    def read(playlist: str) -> dict:
        command = [ffprobe, "-v", "error", "-protocol_whitelist", "file"]
        command += ["-show_format", "-show_streams", "-of", "json", str(folder / playlist)]
        return json.loads(subprocess.run(command, capture_output=True, check=True).stdout)

    codecs = sorted(s["codec_name"] for s in read(MASTER_PLAYLIST)["streams"])
    assert codecs == ["aac", "h264", "h264"]
    for playlist in ("video.m3u8", "video-360.m3u8", "audio.m3u8"):
        assert float(read(playlist)["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01garbage" * 3, b"#EXTM3U\n#EXTINF:1,\n/etc/passwd\n#EXT-X-ENDLIST\n"],
    ids=["noise", "playlist"],
)
def test_a_file_that_is_no_mp4_fails_for_good(ffmpeg, tmp_path, content):
    src = tmp_path / "video.mp4"
    src.write_bytes(content)
    folder = tmp_path / "streams"
    folder.mkdir()
    with pytest.raises(ConversionFailed) as raised:
        make_streams(src, folder, ffmpeg=ffmpeg, timeout=30)
    assert raised.value.permanent
    assert list(folder.iterdir()) == []


def poster(path: Path, size: tuple[int, int]) -> Path:
    Image.new("RGB", size, "teal").save(path, comment=b"from a camera")
    return path


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 720), [(320, 180), (640, 360)]),
        ((480, 640), [(135, 180), (270, 360)]),
        ((400, 300), [(240, 180), (400, 300)]),  # never enlarged
    ],
)
def test_thumbnails_fit_a_16_9_box(tmp_path, size, expected):
    names = make_thumbnails(poster(tmp_path / "poster.jpg", size), tmp_path)
    assert names == ["thumb-320.jpg", "thumb-640.jpg"]
    for name, dimensions in zip(names, expected, strict=True):
        with Image.open(tmp_path / name) as thumbnail:
            assert (thumbnail.format, thumbnail.size) == ("JPEG", dimensions)
            assert thumbnail.info.get("progressive")
            assert "comment" not in thumbnail.info and "exif" not in thumbnail.info


def test_a_poster_claiming_a_huge_picture_is_refused_unread(tmp_path):
    path = poster(tmp_path / "poster.png", (8, 8))
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 5000, 5000)  # the header's width and height...
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # ...and its checksum
    path.write_bytes(data)
    with pytest.raises(ConversionFailed) as raised:
        make_thumbnails(path, tmp_path)
    assert raised.value.permanent
    assert not list(tmp_path.glob("thumb-*"))


def test_a_converted_upload_is_packaged_in_segments_of_about_six_seconds(ffmpeg, tmp_path):
    """convert() puts a keyframe every KEYFRAME_SECONDS where x264 alone would wait 250
    frames (10 s at 25 fps): the stream packaged from its MP4 starts and switches sooner."""
    source = make_clip(tmp_path / "camera.avi", seconds=20, size="160x120")
    convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    made = make_streams(tmp_path / "out.mp4", tmp_path, ffmpeg=ffmpeg, timeout=60)
    (rendition,) = made.renditions
    durations = re.findall(r"#EXTINF:([\d.]+),", (tmp_path / rendition.playlist).read_text())
    assert len(durations) >= 3
    assert all(float(duration) <= KEYFRAME_SECONDS + 0.1 for duration in durations)
