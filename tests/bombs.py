"""Hostile media files, tiny, made for the tests: each declares far more than it holds.

Made with the wheel's static ffmpeg (tests/media.py's FFMPEG) or written byte by byte.
"""

import struct
import subprocess
from pathlib import Path

from tests.media import FFMPEG

QUIET = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def late_frame_mkv(path: Path, *, last_at: float = 36_000, hide_duration: bool = False) -> Path:
    """Three 64x64 4:4:4 frames, the last `last_at` seconds in (10 hours). About 9 KB.

    With `hide_duration` the Matroska file is written to a pipe, so it has no Duration element
    and no index: the headers do not tell how long it is.
    """
    # setpts is in the 1/25 s time base: frames at 0 and 0.04 s, then at `last_at`.
    times = f"if(eq(N,2),{last_at}/TB,N)"
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-frames:v", "3"],
        *["-vf", f"setpts='{times}'", "-fps_mode", "passthrough"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-f", "matroska"],
    ]
    if hide_duration:
        with open(path, "wb") as out:
            subprocess.run([*command, "pipe:1"], stdout=out, check=True, timeout=60)
    else:
        subprocess.run([*command, str(path)], check=True, timeout=60)
    return path


def three_frames_vfr(path: Path) -> Path:
    """An honest variable-frame-rate clip: 3 frames, at 0, 0.5 and 2.5 seconds."""
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-frames:v", "3"],
        *["-vf", "setpts='if(eq(N,2),2.5/TB,N*0.5/TB)'", "-fps_mode", "passthrough"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", str(path)],
    ]
    subprocess.run(command, check=True, timeout=60)
    return path


def fast_clip(path: Path, *, rate: int = 1000) -> Path:
    """0.1 s at `rate` frames a second (Matroska keeps millisecond timestamps)."""
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", f"testsrc2=size=32x32:rate={rate}:duration=0.1"],
        *["-c:v", "libx264", "-preset", "ultrafast", str(path)],
    ]
    subprocess.run(command, check=True, timeout=60)
    return path


def gif_canvas(path: Path, *, width: int = 16_000, height: int = 16_000) -> Path:
    """A GIF whose screen is `width`x`height` and whose one image is a single pixel (35 bytes).

    The GIF decoder allocates the whole screen, 4 bytes a pixel: 1 GB for 16000x16000.
    """
    data = b"GIF89a"
    data += struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # screen, a 2-colour palette
    data += b"\x00\x00\x00\xff\xff\xff"  # the palette: black, white
    data += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)  # a 1x1 image at 0,0
    data += b"\x02\x02\x44\x01\x00"  # its LZW data: one black pixel
    data += b"\x3b"  # end
    path.write_bytes(data)
    return path


def h264_canvas(path: Path, *, width: int = 16_000, height: int = 16_000) -> Path:
    """A raw H.264 stream whose sequence header declares `width`x`height` (about 650 bytes).

    Encoded at 64x64, then the picture size in the SPS is rewritten: decoders allocate the
    declared size (1.2 GB for 16000x16000) for pictures that hold 16 macroblocks.
    """
    assert width % 16 == 0 and height % 16 == 0
    small = path.with_suffix(".small.h264")
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", "color=size=64x64:rate=25", "-frames:v", "2"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline"],
        *["-f", "h264", str(small)],
    ]
    subprocess.run(command, check=True, timeout=60)
    units = small.read_bytes().split(b"\x00\x00\x00\x01")
    small.unlink()
    for i, unit in enumerate(units):
        if unit and unit[0] & 0x1F == 7:  # sequence parameter set
            sps = _patch_sps_size(_unescape(unit[1:]), width // 16, height // 16)
            units[i] = unit[:1] + _escape(sps)
    path.write_bytes(b"\x00\x00\x00\x01".join(units))
    return path


def many_streams(path: Path, *, count: int = 999) -> Path:
    """`count` copies of a one-frame 16x16 H.264 stream, in the container `path` names.

    Opening it starts a decoder for every stream: 780 MB for 999 in Matroska (about 270 KB).
    """
    one = path.with_name("one." + path.name)
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", "color=size=16x16:rate=1", "-frames:v", "1"],
        *["-c:v", "libx264", "-preset", "ultrafast"],
        *["-bsf:v", "filter_units=remove_types=6", "-f", "matroska", str(one)],  # no SEI text
    ]
    subprocess.run(command, check=True, timeout=60)
    maps = ["-map", "0:v"] * count
    subprocess.run([*QUIET, "-i", str(one), *maps, "-c", "copy", str(path)], check=True)
    one.unlink()
    return path


def big_black_clip(path: Path) -> Path:
    """Ten black 4096x2176 frames, 4:4:4 10-bit, within the limits (about 32 KB).

    Converting it needs well over 500 MiB of address space with any ffmpeg here, even on one
    core: 542 MiB for Debian's 5.1, 718 MiB for the static 9.0.
    """
    command = [
        *QUIET,
        *["-f", "lavfi", "-i", "color=size=4096x2176:rate=10", "-frames:v", "10"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p10le", str(path)],
    ]
    subprocess.run(command, check=True, timeout=120)
    return path


# H.264 bit syntax, just enough to rewrite the picture size of a Baseline sequence header.


def _unescape(data: bytes) -> bytes:
    """Drop the emulation-prevention bytes (00 00 03 -> 00 00)."""
    out = bytearray()
    zeros = 0
    for byte in data:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _escape(data: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in data:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{byte:08b}" for byte in data)
        self.pos = 0

    def u(self, count: int) -> int:
        value = int(self.bits[self.pos : self.pos + count], 2)
        self.pos += count
        return value

    def ue(self) -> int:  # unsigned Exp-Golomb
        zeros = 0
        while self.bits[self.pos] == "0":
            zeros += 1
            self.pos += 1
        return self.u(zeros + 1) - 1


def _ue(value: int) -> str:
    bits = f"{value + 1:b}"
    return "0" * (len(bits) - 1) + bits


def _patch_sps_size(rbsp: bytes, mb_width: int, mb_height: int) -> bytes:
    reader = _Bits(rbsp)
    profile = reader.u(8)
    assert profile == 66, "only Baseline headers (no chroma or scaling fields)"
    reader.u(16)  # constraint flags, level
    reader.ue()  # seq_parameter_set_id
    reader.ue()  # log2_max_frame_num_minus4
    if reader.ue() == 0:  # pic_order_cnt_type
        reader.ue()  # log2_max_pic_order_cnt_lsb_minus4
    reader.ue()  # max_num_ref_frames
    reader.u(1)  # gaps_in_frame_num_value_allowed_flag
    start = reader.pos
    reader.ue()  # pic_width_in_mbs_minus1
    reader.ue()  # pic_height_in_map_units_minus1
    bits = reader.bits[:start] + _ue(mb_width - 1) + _ue(mb_height - 1) + reader.bits[reader.pos :]
    bits = bits.rstrip("0")  # the stop bit is now the last 1: pad again to whole bytes
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
