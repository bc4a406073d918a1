"""Does a file end before its container says it should?

Containers that state their own size: RIFF (AVI) chunk sizes, the top-level boxes of ISO
media files (MP4, MOV, 3GP), the Matroska/WebM segment's size, and the file size in an ASF
(WMV) header. A file that is shorter than what they state was cut short: an upload or a copy
that stopped. Other containers (FLV, MPEG) state nothing, and get None.
"""

import os
import struct

# ASF's objects: the header, and the file properties object inside it.
ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
ASF_FILE_PROPERTIES = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MATROSKA_SEGMENT = b"\x18\x53\x80\x67"
MAX_BOXES = 10_000  # top-level boxes or chunks looked at before giving up
TO_THE_END = -1  # a box whose stated size is 0 runs to the end of the file
TO_PAST_END = 2**64  # a block whose header itself is cut


def is_truncated(path: str | os.PathLike[str]) -> bool | None:
    """True when the file ends before its container's stated size, False when it does not,
    None when its container states no size (or is not one of those above)."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(16)
        for check in (_riff, _iso_media, _matroska, _asf):
            handle.seek(0)
            answer = check(handle, head, size)
            if answer is not None:
                return answer
    return None


def _riff(handle, head: bytes, size: int) -> bool | None:
    """AVI: one RIFF chunk, or several (RIFF AVI, then RIFF AVIX past 1 GB), back to back."""
    if head[:4] != b"RIFF":
        return None

    def chunk_length(header: bytes) -> int | None:
        if header[:4] != b"RIFF":
            return None  # something after the chunks: not ours to judge
        (length,) = struct.unpack("<I", header[4:8])
        return 8 + length + (length & 1)

    return _ends_early(handle, size, 8, chunk_length)


def _iso_media(handle, head: bytes, size: int) -> bool | None:
    """MP4, MOV, 3GP: boxes back to back, each starting with its size."""
    if head[4:8] not in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return None

    def box_length(header: bytes) -> int | None:
        length, kind = struct.unpack(">I4s", header[:8])
        if not kind.isascii() or not kind.decode("ascii").isprintable():
            return None  # not a box: the file is damaged, not cut short
        if length == 1:  # a 64-bit size follows, unless the file ends first
            return struct.unpack(">Q", header[8:16])[0] if len(header) == 16 else TO_PAST_END
        if length == 0:
            return TO_THE_END
        return length if length >= 8 else None

    return _ends_early(handle, size, 16, box_length)


def _ends_early(handle, size: int, header_bytes: int, length_of) -> bool | None:
    """Walk blocks that each start with their length (length_of(header): bytes of the block,
    None when it is not one, TO_THE_END); True when one ends past the file's end."""
    position = 0
    for _ in range(MAX_BOXES):
        if position >= size:
            return False
        handle.seek(position)
        header = handle.read(header_bytes)
        if len(header) < 8:
            return True
        length = length_of(header)
        if length is None:
            return None
        if length == TO_THE_END:
            return False
        position += length
        if position > size:
            return True
    return None


def _matroska(handle, head: bytes, size: int) -> bool | None:
    """MKV, WebM: the EBML header, then one segment of a stated size (or "unknown")."""
    if head[:4] != EBML_MAGIC:
        return None
    handle.seek(4)
    header_size, width = _vint(handle.read(8))
    if header_size is None:
        return None
    position = 4 + width + header_size
    handle.seek(position)
    if handle.read(4) != MATROSKA_SEGMENT:
        return None
    segment_size, width = _vint(handle.read(8))
    if segment_size is None:  # "unknown": a live recording, which states no end
        return None
    return position + 4 + width + segment_size > size


def _vint(data: bytes) -> tuple[int | None, int]:
    """An EBML variable-length size: its value (None when "unknown") and its width in bytes."""
    if not data or data[0] == 0:
        return None, 0
    width = 8 - data[0].bit_length() + 1
    if len(data) < width:
        return None, width
    value = data[0] & (0xFF >> width)
    for byte in data[1:width]:
        value = (value << 8) | byte
    if value == (1 << (7 * width)) - 1:
        return None, width
    return value, width


def _asf(handle, head: bytes, size: int) -> bool | None:
    """WMV, WMA: the header object's file properties state the file's size."""
    if head != ASF_HEADER:
        return None
    header = handle.read(30)
    if len(header) < 30:
        return True
    (header_size,) = struct.unpack("<Q", header[16:24])
    position = 30
    while position + 24 <= min(header_size, size):
        handle.seek(position)
        object_head = handle.read(24)
        guid = object_head[:16]
        (length,) = struct.unpack("<Q", object_head[16:24])
        if guid == ASF_FILE_PROPERTIES:
            # File ID, file size, creation date, packets, durations, preroll, flags.
            body = handle.read(68)
            if len(body) < 68:
                return True
            (stated,) = struct.unpack("<Q", body[16:24])
            (flags,) = struct.unpack("<I", body[64:68])
            if stated == 0 or flags & 1:  # a broadcast: its size is not known
                return None
            return stated > size
        if length < 24:
            return None
        position += length
    return True if header_size > size else None
