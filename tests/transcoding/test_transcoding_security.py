"""Uploads must never make ffmpeg or PyAV read another file (playlists, concat lists, ...)."""

import shutil
import subprocess

import imageio_ffmpeg
import pytest

from transcoding import (
    ConversionFailed,
    InvalidMedia,
    convert,
    plan_conversion,
    probe,
    run_ffmpeg,
    transcode,
)
from transcoding.security import FORMAT_WHITELIST, ffmpeg_input


@pytest.fixture
def playlists(clip, tmp_path):
    """An HLS playlist and an ffconcat list, each naming another local video."""
    shutil.copy(clip("h264_aac.ts"), tmp_path / "segment.ts")
    shutil.copy(clip("h264_aac.mp4"), tmp_path / "other.mp4")
    hls = tmp_path / "upload.m3u8"
    hls.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\nsegment.ts\n#EXT-X-ENDLIST\n")
    concat = tmp_path / "upload.ffconcat"
    concat.write_text("ffconcat version 1.0\nfile other.mp4\n")
    # The playlist under a harmless-looking name: ffmpeg 5.1 still detects it as HLS (and the
    # whitelist refuses it); newer versions refuse to detect HLS under a foreign extension.
    disguised = tmp_path / "holiday.mp4"
    disguised.write_text(hls.read_text())
    return {"hls": hls, "concat": concat, "disguised": disguised}


KINDS = ["hls", "concat", "disguised"]


def test_plain_ffmpeg_would_follow_the_playlists(playlists, tmp_path):
    # Proves the fixtures are real attacks: without the whitelists ffmpeg reads the other video.
    for name in ("hls", "concat"):
        out = tmp_path / f"{name}-leak.mp4"
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(playlists[name]),
            "-c",
            "copy",
        ]
        cmd += ["-map", "0:v", str(out)]
        subprocess.run(cmd, check=False, capture_output=True)
        assert out.exists() and out.stat().st_size > 1000


@pytest.mark.parametrize("kind", KINDS)
def test_probe_rejects_playlists(playlists, kind):
    with pytest.raises(InvalidMedia) as raised:
        probe(playlists[kind])
    assert raised.value.permanent
    assert "not accepted" in raised.value.reason or "could not be read" in raised.value.reason


@pytest.mark.parametrize("kind", KINDS)
def test_convert_rejects_playlists(playlists, ffmpeg, tmp_path, kind):
    with pytest.raises(InvalidMedia):
        convert(playlists[kind], tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=30)


@pytest.mark.parametrize("kind", KINDS)
def test_ffmpeg_refuses_playlists_even_without_probe(playlists, clip, ffmpeg, tmp_path, kind):
    plan = plan_conversion(probe(clip("mpeg4_mp3.avi")))  # a plan made for some other file
    dst = tmp_path / "out.mp4"
    with pytest.raises(ConversionFailed) as raised:
        transcode(playlists[kind], dst, plan, ffmpeg=ffmpeg, timeout=30)
    assert raised.value.permanent
    assert "not on whitelist" in raised.value.detail or kind == "disguised"
    assert not dst.exists() or dst.stat().st_size == 0


def test_whitelist_matches_any_name_of_a_multi_name_demuxer(clip, ffmpeg, tmp_path):
    # "mov,mp4,m4a,3gp,3g2,mj2" passes with only "mp4" listed, and is refused without it.
    src = clip("h264_aac.mp4")
    for allowed, ok in [("mp4", True), ("mov", True), ("webm", False), ("hls,avi", False)]:
        args = ffmpeg_input(src)
        args[args.index(FORMAT_WHITELIST)] = allowed
        dst = tmp_path / "out.mp4"
        try:
            run_ffmpeg(ffmpeg, [*args, "-c", "copy", "-f", "mp4", str(dst)], timeout=30)
            assert ok, allowed
        except ConversionFailed as exc:
            assert not ok, allowed
            assert "not on whitelist" in exc.detail


def test_playlist_demuxers_are_not_in_the_allow_list():
    allowed = FORMAT_WHITELIST.split(",")
    for name in ["hls", "concat", "dash", "image2", "lavfi", "tee", "ffmetadata", "tty", "data"]:
        assert name not in allowed


def test_protocol_prefixes_in_file_names_are_not_protocols(clip, ffmpeg, tmp_path):
    # A file literally named "concat:..." is opened as that file, not as the concat protocol.
    sneaky = tmp_path / "concat:clip.mp4|clip.mp4"
    shutil.copy(clip("h264_aac.mp4"), sneaky)
    out = convert(sneaky, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=30)
    assert out.duration == pytest.approx(1.0, abs=0.1)  # one copy, not two concatenated
