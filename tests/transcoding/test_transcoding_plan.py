"""plan_conversion() on made-up stream descriptions: sizes, remux decisions, ffmpeg options."""

from fractions import Fraction

import pytest

from transcoding import AudioStream, MediaInfo, VideoStream, plan_conversion
from transcoding.plan import max_video_bitrate

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
AAC = AudioStream(codec="aac", channels=2, sample_rate=48000, profile="LC")


def h264(width: int, height: int, rotation: int = 0, **changes) -> VideoStream:
    fields = {"codec": "h264", "pix_fmt": "yuv420p", "profile": "High", **changes}
    return VideoStream(width=width, height=height, rotation=rotation, **fields)


def info(video: VideoStream, audio: AudioStream | None = AAC, fmt: str = MP4) -> MediaInfo:
    return MediaInfo(format_name=fmt, duration=10.0, video=video, audio=audio)


@pytest.mark.parametrize(
    ("video", "size"),
    [
        (h264(2560, 1440), (1920, 1080)),
        (h264(3840, 2160), (1920, 1080)),
        (h264(2160, 3840), (1080, 1920)),  # portrait fits 1080x1920
        (h264(3840, 2160, rotation=90), (1080, 1920)),  # phone portrait, stored landscape
        (h264(1440, 1080), (1440, 1080)),
        (h264(1920, 1200), (1728, 1080)),  # 16:10, the short side limits
        (h264(1000, 3000), (640, 1920)),
        (h264(320, 240), (320, 240)),  # never scaled up
        (h264(321, 241), (320, 240)),  # odd sizes rounded down to even
        (h264(720, 576, sample_aspect_ratio=Fraction(16, 15)), (768, 576)),  # PAL 4:3
    ],
)
def test_output_size(video, size):
    plan = plan_conversion(info(video))
    assert (plan.width, plan.height) == size


def test_limits_are_configurable():
    plan = plan_conversion(info(h264(1920, 1080)), max_long_side=1280, max_short_side=720)
    assert (plan.width, plan.height) == (1280, 720)


def test_browser_ready_input_is_remuxed():
    plan = plan_conversion(info(h264(1920, 1080, rotation=90)))
    assert plan.remux
    assert plan.ffmpeg_args == [
        *["-map", "0:V:0", "-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1"],
        *["-c:v", "copy", "-c:a", "copy", "-movflags", "+faststart"],
    ]
    assert (plan.width, plan.height) == (1080, 1920)


@pytest.mark.parametrize(
    "video",
    [
        h264(2560, 1440),
        h264(321, 240),
        h264(320, 240, pix_fmt="yuv420p10le", profile="High 10"),
        h264(320, 240, pix_fmt="yuv444p", profile="High 4:4:4 Predictive"),
        h264(320, 240, pix_fmt="yuvj420p"),
        h264(320, 240, sample_aspect_ratio=Fraction(4, 3)),
        h264(320, 240, codec="hevc", profile="Main"),
    ],
)
def test_other_video_is_reencoded(video):
    plan = plan_conversion(info(video))
    assert not plan.remux
    args = " ".join(plan.ffmpeg_args)
    assert "-c:v libx264" in args and "-pix_fmt yuv420p" in args
    assert f"scale={plan.width}:{plan.height}" in args
    assert "-c:a copy" in args  # the AAC audio is fine as it is


def test_h264_from_avi_is_reencoded():
    # AVI has no reliable timestamps for H.264 with B-frames.
    assert not plan_conversion(info(h264(320, 240), fmt="avi")).remux


@pytest.mark.parametrize(
    ("audio", "expected"),
    [
        (None, "-an"),
        (AudioStream(codec="mp3", channels=2, sample_rate=44100), "-c:a aac -b:a 128k"),
        (AudioStream(codec="mp3", channels=1, sample_rate=44100), "-c:a aac -b:a 64k"),
        (AudioStream(codec="aac", channels=6, sample_rate=48000, profile="LC"), "-ac 2"),
        (AudioStream(codec="aac", channels=2, sample_rate=48000, profile="Main"), "-c:a aac"),
    ],
)
def test_audio(audio, expected):
    plan = plan_conversion(info(h264(320, 240), audio=audio))
    assert expected in " ".join(plan.ffmpeg_args)
    assert plan.remux is (audio is None)
    assert ("0:a:0" in plan.ffmpeg_args) is (audio is not None)


def option(plan, name: str) -> str:
    return plan.ffmpeg_args[plan.ffmpeg_args.index(name) + 1]


def test_a_reencoded_picture_gets_a_ceiling_with_twice_its_buffer():
    plan = plan_conversion(info(h264(1280, 720, frame_rate=Fraction(30)), fmt="avi"))
    assert plan.max_video_bitrate == max_video_bitrate(1280, 720, 30)
    assert int(option(plan, "-maxrate")) == plan.max_video_bitrate
    assert int(option(plan, "-bufsize")) == 2 * plan.max_video_bitrate


def test_a_remuxed_picture_is_left_as_it_is():
    plan = plan_conversion(info(h264(1280, 720)))
    assert plan.remux and plan.max_video_bitrate is None
    assert "-maxrate" not in plan.ffmpeg_args


@pytest.mark.parametrize(
    ("size", "fps", "megabits"),
    [
        ((1280, 720), 30, 3.04),  # PeerTube's average bits a pixel, at up to 30 fps
        ((1920, 1080), 30, 6.22),
        ((1080, 1920), 30, 6.22),  # portrait: the same
        ((1920, 1080), 60, 9.43),  # 60 fps: 1.5 times, not twice
        ((1920, 1080), 240, 9.43),  # never more than at 60 fps
        ((1920, 1080), 25, 5.18),  # proportional up to 30 fps
        ((640, 360), 25, 0.86),
        ((1280, 720), None, 3.04),  # unknown frame rate: as 30
    ],
)
def test_the_ceiling_grows_with_the_picture_and_its_frame_rate(size, fps, megabits):
    assert max_video_bitrate(*size, fps) / 1e6 == pytest.approx(megabits, abs=0.01)


def test_no_picture_gets_a_ceiling_above_the_documented_one():
    highest = max(
        max_video_bitrate(w, h, fps)
        for w, h in [(1920, 1080), (1080, 1920), (1440, 1080), (640, 1920)]
        for fps in (24, 30, 50, 60, 120)
    )
    assert highest <= 9.43e6  # docs/PERFORMANCE.md, "Encoding recipe"


def test_threads_are_passed_to_x264_only_when_set():
    video = h264(320, 240, frame_rate=Fraction(25))
    assert "-threads" not in plan_conversion(info(video, fmt="avi")).ffmpeg_args
    assert option(plan_conversion(info(video, fmt="avi"), threads=1), "-threads") == "1"
