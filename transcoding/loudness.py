"""Bringing every entry's sound to one loudness (EBU R128), so no entry is much quieter or
louder than the one before it.

measure_args() runs ffmpeg's ebur128 filter over the sound alone (no picture is decoded; a remux
measures in its own ffmpeg run, measure_output_args()); then
audio_filter() gives what the conversion applies: nothing when the sound is already within
TOLERANCE_LU of the target (or silent), else a gain, followed by a true-peak limiter when the
gain would lift the peaks over the ceiling. Limiting takes some loudness away with the peaks:
refine_gain() corrects the gain from a measure of the limited sound (convert() does this a
few times at most).
"""

import os
import re
from dataclasses import dataclass

from .security import ffmpeg_input

TARGET_LUFS = -16.0  # integrated loudness, as the streaming platforms use for speech and music
# The true-peak ceiling asked is -1 dBTP; the AAC encoder adds a little overshoot to what the
# filters leave, so they aim this much lower.
TRUE_PEAK_CEILING = -1.0
TRUE_PEAK_AIM = -2.5
TOLERANCE_LU = 1.0  # closer than this to the target: left as it is (and AAC may be copied)
# With the limiter, the gain is found by measuring the limited sound, at most this many times;
# a step that gains less than GAINED LU is not worth its gain.
LIMITER_STEPS = 3
GAINED = 0.5
# ebur128 gates everything under -70 LUFS out: silence measures -70 (or nothing at all).
# Sound this quiet is silence or hum, and stays as it is.
SILENT_BELOW = -69.0
MAX_GAIN_DB = 40.0  # a whisper at -56 LUFS still reaches the target; noise is not made a roar
# The limiter sees the peaks between samples (true peaks) at four times 48 kHz.
LIMITER_SAMPLE_RATE = 192000
OUTPUT_SAMPLE_RATE = 48000

# The summary ebur128 logs when it ends.
NUMBER = r"(-?[\d.]+|-?inf)"
INTEGRATED = re.compile(rf"Integrated loudness:\s+I:\s+{NUMBER} LUFS\s+Threshold:\s+{NUMBER}")
RANGE = re.compile(rf"Loudness range:\s+LRA:\s+{NUMBER} LU")
TRUE_PEAK = re.compile(rf"True peak:\s+Peak:\s+{NUMBER} dBFS")


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    threshold: float  # LUFS: the relative gate of the integrated measure
    range: float  # LU
    true_peak: float  # dBTP

    @property
    def silent(self) -> bool:
        return self.integrated < SILENT_BELOW


def measure_args(
    src: str | os.PathLike[str], *, channels: int, chain: str | None = None
) -> list[str]:
    """ffmpeg's arguments (after run_ffmpeg's fixed ones) to measure the first sound stream,
    as the conversion will have it (down-mixed to stereo when it has more channels), or after
    `chain` (an audio_filter())."""
    return [*ffmpeg_input(src), *measure_output_args(channels=channels, chain=chain)]


def measure_output_args(*, channels: int, chain: str | None = None) -> list[str]:
    """The output half of measure_args(): an ffmpeg output that measures and writes nothing,
    which a remux adds to its own run (one read of the file, one ffmpeg start)."""
    chain = chain or f"aformat=channel_layouts={_layout(channels)}"
    only_sound = ["-map", "0:a:0", "-vn", "-sn", "-dn"]
    ebur128 = "ebur128=peak=true:framelog=verbose"
    return [*only_sound, "-af", f"{chain},{ebur128}", "-f", "null", "-"]


def parse_summary(log: str) -> Loudness | None:
    """The figures of ebur128's summary in ffmpeg's log; None when it printed none."""
    integrated, peak = INTEGRATED.search(log), TRUE_PEAK.search(log)
    loudness_range = RANGE.search(log)
    if not (integrated and peak and loudness_range):
        return None
    return Loudness(
        integrated=float(integrated[1]),
        threshold=float(integrated[2]),
        range=float(loudness_range[1]),
        true_peak=float(peak[1]),
    )


def gain_for(loudness: Loudness | None) -> float | None:
    """The gain in dB that brings the sound to TARGET_LUFS; None when it needs none."""
    if loudness is None or loudness.silent:
        return None
    gain = min(TARGET_LUFS - loudness.integrated, MAX_GAIN_DB)
    if abs(gain) <= TOLERANCE_LU and loudness.true_peak <= TRUE_PEAK_CEILING:
        return None
    return gain


def needs_limiter(loudness: Loudness, gain: float) -> bool:
    return loudness.true_peak + gain > TRUE_PEAK_AIM


def audio_filter(gain: float | None, *, channels: int, limit: bool) -> str | None:
    """The -af chain for a gain_for(), or None for none. limit: a true-peak limiter after it."""
    if gain is None:
        return None
    layout = f"aformat=channel_layouts={_layout(channels)}"
    chain = f"{layout},volume={gain:.2f}dB"  # the whole file up or down: nothing else changes
    if limit:
        ceiling = 10 ** (TRUE_PEAK_AIM / 20)
        limiter = f"alimiter=limit={ceiling:.4f}:level=false:attack=1:release=50"
        chain += (
            f",aresample={LIMITER_SAMPLE_RATE},{limiter},aresample={OUTPUT_SAMPLE_RATE},{layout}"
        )
    return chain


def refine_gain(gain: float, limited: Loudness | None) -> float:
    """The gain again, given the loudness `limited` that gain + limiter gave."""
    if limited is None or limited.silent:
        return gain
    return min(gain + TARGET_LUFS - limited.integrated, MAX_GAIN_DB)


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"
