"""probe(): stream facts from headers, and human reasons for files we cannot use."""

import os

import pytest

from transcoding import InvalidMedia, probe


def test_reads_streams_duration_and_size(clip):
    info = probe(clip("h264_aac.mp4"))
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.pix_fmt) == ("h264", "yuv420p")
    assert info.video.profile == "Constrained Baseline"  # x264 -preset ultrafast
    assert (info.video.width, info.video.height, info.video.rotation) == (160, 120, 0)
    assert (info.audio.codec, info.audio.channels, info.audio.sample_rate) == ("aac", 1, 44100)


@pytest.mark.parametrize(
    ("name", "codec", "audio_codec"),
    [
        ("flv1_mp3.flv", "flv1", "mp3"),
        ("wmv2_wmav2.wmv", "wmv2", "wmav2"),
        ("mpeg2_mp2.mpg", "mpeg2video", "mp2"),
        ("h263_aac.3gp", "h263", "aac"),
    ],
)
def test_codec_names_are_canonical(clip, name, codec, audio_codec):
    info = probe(clip(name))
    assert info.video is not None and info.video.codec == codec
    assert info.audio is not None and info.audio.codec == audio_codec


def test_rotation_comes_from_the_display_matrix(clip):
    info = probe(clip("rot90_h264.mp4"))
    assert info.video is not None
    # Turned 90 degrees counter-clockwise is 270 clockwise.
    assert (info.video.width, info.video.height, info.video.rotation) == (160, 120, 270)
    assert (info.video.display_width, info.video.display_height) == (120, 160)


def test_non_square_pixels_widen_the_display_size(clip):
    video = probe(clip("sar2_mpeg4.mp4")).video
    assert video is not None and video.sample_aspect_ratio == 2
    assert (video.display_width, video.display_height) == (320, 120)


def test_audio_only_file_has_no_video_even_with_cover_art(clip):
    with pytest.raises(InvalidMedia, match="holds no video") as raised:
        probe(clip("audio_with_cover.m4a"))
    assert raised.value.permanent


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(InvalidMedia, match="empty"):
        probe(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "random.mp4"
    path.write_bytes(os.urandom(50_000))
    with pytest.raises(InvalidMedia) as raised:
        probe(path)
    assert raised.value.permanent and "could not be read" in raised.value.reason


def test_mp4_cut_before_its_index(clip, tmp_path):
    # Without faststart the index (moov) is at the end, so the first half cannot be read;
    # its media box states more bytes than are there, so the reason names the cause.
    data = clip("h264_aac.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidMedia, match="The file is incomplete"):
        probe(path)


def test_text_file_is_not_accepted(tmp_path):
    # ffmpeg's "tty" demuxer would render a .txt file as video.
    path = tmp_path / "notes.txt"
    path.write_text("password=hunter2\n" * 100)
    with pytest.raises(InvalidMedia):
        probe(path)


def test_missing_file_is_a_programming_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nothing.mp4")
