"""Every entry's sound comes out at one loudness (EBU R128: -16 LUFS, true peak under -1 dBTP);
silence stays silent, and sound already at the target is left as it is."""

import subprocess
from pathlib import Path

import pytest

from tests.media import FFMPEG
from transcoding import convert, plan_conversion, probe
from transcoding.loudness import (
    TARGET_LUFS,
    TOLERANCE_LU,
    TRUE_PEAK_CEILING,
    Loudness,
    audio_filter,
    gain_for,
    measure_args,
    needs_limiter,
    parse_summary,
    refine_gain,
)
from transcoding.run import run_ffmpeg


def make_av(path: Path, sound: str, *, video: list[str], audio: list[str], seconds=6) -> Path:
    """A small picture with the sound of the lavfi graph `sound`."""
    command = [
        FFMPEG, "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", sound,
        "-t", str(seconds), "-shortest", *video, *audio, str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    return path


def loudness_of(path: Path) -> Loudness:
    log = run_ffmpeg(FFMPEG, measure_args(path, channels=2), timeout=60, loglevel="info")
    measured = parse_summary(log)
    assert measured is not None, log[-2000:]
    return measured


AVI = {"video": ["-c:v", "mpeg4"], "audio": ["-c:a", "pcm_s16le"]}
MP4 = {"video": ["-c:v", "libx264", "-pix_fmt", "yuv420p"], "audio": ["-c:a", "aac"]}
# A quiet tone, as a camera far from its subject records (-46 LUFS).
QUIET = "sine=frequency=440:sample_rate=48000,volume=-25dB"
# A quiet voice with loud clicks (-35 LUFS, peaks at -10 dBTP): raised to the target as a
# whole, the clicks would clip.
CLICKY = (
    "aevalsrc=exprs='0.01*sin(2*PI*440*t)+0.3*sin(2*PI*2000*t)*lt(mod(t\\,1)\\,0.004)'"
    ":sample_rate=48000"
)
# A buzz: 60 harmonics of 100 Hz in phase, a pulse train whose peaks stand 18 dB over its
# loudness: its peaks carry its loudness, so no limiter can bring it to
# the target under the ceiling without distorting it.
HARMONICS = "+".join(f"cos(2*PI*{100 * k}*t)" for k in range(1, 61))
BUZZ = f"aevalsrc=exprs='0.0015*({HARMONICS})':sample_rate=48000"


def test_a_quiet_entry_reaches_the_target(ffmpeg, tmp_path):
    source = make_av(tmp_path / "quiet.avi", QUIET, **AVI)
    assert loudness_of(source).integrated < -40
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    assert out.source_loudness == pytest.approx(-46, abs=2)
    made = loudness_of(tmp_path / "out.mp4")
    assert abs(made.integrated - TARGET_LUFS) <= TOLERANCE_LU
    assert made.true_peak <= TRUE_PEAK_CEILING


def test_peaks_are_limited_when_a_plain_gain_would_clip(ffmpeg, tmp_path):
    source = make_av(tmp_path / "clicky.avi", CLICKY, **AVI)
    before = loudness_of(source)
    assert needs_limiter(before, gain_for(before))  # a plain gain would clip
    convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    made = loudness_of(tmp_path / "out.mp4")
    assert abs(made.integrated - TARGET_LUFS) <= TOLERANCE_LU
    assert made.true_peak <= TRUE_PEAK_CEILING


def test_a_buzz_is_raised_only_as_far_as_the_ceiling_allows(ffmpeg, tmp_path):
    source = make_av(tmp_path / "buzz.avi", BUZZ, **AVI)
    before = loudness_of(source)
    assert needs_limiter(before, gain_for(before))
    convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    made = loudness_of(tmp_path / "out.mp4")
    assert made.true_peak <= TRUE_PEAK_CEILING  # the ceiling wins over the target
    assert made.integrated > before.integrated + 15  # yet far louder than it came
    assert made.integrated < TARGET_LUFS


def test_a_loud_surround_entry_comes_down_in_stereo(ffmpeg, tmp_path):
    loud = "sine=frequency=220:sample_rate=48000,volume=12dB,aformat=channel_layouts=5.1"
    source = make_av(tmp_path / "loud.mkv", loud, **MP4)
    assert loudness_of(source).integrated > -12
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    assert out.audio.channels == 2
    made = loudness_of(tmp_path / "out.mp4")
    assert abs(made.integrated - TARGET_LUFS) <= TOLERANCE_LU
    assert made.true_peak <= TRUE_PEAK_CEILING


def test_silence_stays_silent(ffmpeg, tmp_path):
    source = make_av(tmp_path / "silent.avi", "anullsrc=r=48000:cl=stereo", **AVI)
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    assert out.audio is not None
    made = loudness_of(tmp_path / "out.mp4")
    assert made.silent and made.true_peak == float("-inf")


def test_sound_at_the_target_is_copied_untouched(ffmpeg, tmp_path):
    # Brought to the target once: a second conversion finds nothing to do and remuxes.
    first = convert(
        make_av(tmp_path / "quiet.mp4", QUIET, **MP4), tmp_path / "once.mp4", ffmpeg=ffmpeg
    )
    assert first.source_loudness < -40
    once = tmp_path / "once.mp4"
    assert gain_for(loudness_of(once)) is None
    assert plan_conversion(probe(once)).remux
    twice = convert(once, tmp_path / "twice.mp4", ffmpeg=ffmpeg, timeout=120)
    # Measured in the remux's own run, and reported as any measure.
    assert twice.source_loudness == pytest.approx(TARGET_LUFS, abs=TOLERANCE_LU)
    assert (tmp_path / "twice.mp4").stat().st_size == pytest.approx(once.stat().st_size, rel=0.01)
    assert loudness_of(tmp_path / "twice.mp4") == loudness_of(once)


def test_a_quiet_file_that_is_only_repackaged_keeps_its_picture_and_reaches_the_target(
    ffmpeg, tmp_path
):
    source = make_av(tmp_path / "quiet.mp4", QUIET, **MP4)
    assert plan_conversion(probe(source)).remux  # were its sound at the target
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, timeout=120)
    assert out.source_loudness == pytest.approx(-46, abs=2)
    made = loudness_of(tmp_path / "out.mp4")
    assert abs(made.integrated - TARGET_LUFS) <= TOLERANCE_LU
    assert made.true_peak <= TRUE_PEAK_CEILING
    assert picture_hash(tmp_path / "out.mp4") == picture_hash(source)  # copied, not re-encoded


def picture_hash(path: Path) -> str:
    """A hash of the picture's compressed packets, as they are stored."""
    command = [FFMPEG, "-nostdin", "-loglevel", "error", "-i", str(path)]
    command += ["-map", "0:v:0", "-c", "copy", "-f", "hash", "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_without_normalizing_the_sound_is_kept(ffmpeg, tmp_path):
    source = make_av(tmp_path / "quiet.mp4", QUIET, **MP4)
    out = convert(source, tmp_path / "out.mp4", ffmpeg=ffmpeg, normalize_loudness=False)
    assert out.source_loudness is None
    assert loudness_of(tmp_path / "out.mp4").integrated < -40


def at(integrated, true_peak):
    return Loudness(integrated, integrated - 10, 3.0, true_peak)


@pytest.mark.parametrize(
    ("measured", "gain", "limit"),
    [
        (None, None, False),  # no sound
        (at(-70.0, float("-inf")), None, False),  # silence
        (at(-16.4, -3.0), None, False),  # within the tolerance
        (at(-46.0, -43.0), 30.0, False),  # room for a plain gain
        (at(-8.0, -1.5), -8.0, False),  # too loud: turned down
        (at(-30.0, -3.0), 14.0, True),  # the peaks need the limiter
        (at(-16.0, 0.5), 0.0, True),  # on target but clipping
        (at(-66.0, -60.0), 40.0, False),  # the gain has a ceiling
    ],
)
def test_what_the_sound_gets(measured, gain, limit):
    assert gain_for(measured) == gain
    chain = audio_filter(gain, channels=2, limit=limit)
    if gain is None:
        assert chain is None
        return
    assert needs_limiter(measured, gain) is limit
    assert chain.startswith("aformat=channel_layouts=stereo,volume=")
    assert ("alimiter" in chain) is limit


def test_the_gain_is_corrected_for_what_the_limiter_took():
    assert refine_gain(14.0, at(-18.0, -2.5)) == 16.0
    assert refine_gain(14.0, None) == 14.0


def test_the_summary_is_read_from_the_log():
    log = """[Parsed_ebur128_1 @ 0x1] Summary:

  Integrated loudness:
    I:         -46.8 LUFS
    Threshold: -56.8 LUFS

  Loudness range:
    LRA:         0.4 LU
    Threshold: -66.8 LUFS
    LRA low:   -46.8 LUFS
    LRA high:  -46.8 LUFS

  True peak:
    Peak:      -inf dBFS"""
    assert parse_summary(log) == Loudness(-46.8, -56.8, 0.4, float("-inf"))
    assert parse_summary("Conversion failed!") is None
