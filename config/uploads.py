"""Uploads written to disk once: a form's file goes to a file of its own as its bytes arrive.

The event loop (config/asgi.py) spools each request body to FILE_UPLOAD_TEMP_DIR. Django's
multipart parser used to read that spool back in the request's thread and write the file's
bytes a second time, to the temporary file the storage then moves: a 1 GiB entry was written
twice and read once more, and the second write is the one a busy disk throttles.

SplitBody takes a multipart/form-data body as it arrives. The content of its first file part
goes straight to a temporary file in FILE_UPLOAD_TEMP_DIR (a SpooledUpload); the rest of the
body (the fields, every part's headers) goes to the spool as before, with a token in place of
that content. Django parses the rest, which is small, and FileUploadHandler hands the view the
waiting file where a part's content is the token: the TemporaryUploadedFile Django would have
made, which FileSystemStorage moves into place (a rename) and S3 storage streams from.

Django still decides what the body means. A part is set aside only where Django's own rules
(parse_boundary_stream for the headers, the boundary's first occurrence, one CRLF before it)
make it a file with no transfer encoding; anything else passes through unchanged, and Django
reads it as it always did. The token is random for each request: a body quoting one gets
nothing from it. The request's body as bytes (request.body) holds the token, not the file.
"""

import secrets
import tempfile
from contextlib import suppress
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import (
    FILE,
    MAX_TOTAL_HEADER_SIZE,
    LazyStream,
    MultiPartParser,
    parse_boundary_stream,
)
from django.utils.http import parse_header_parameters

HEAD_END = b"\r\n\r\n"
# The attribute of a request (config/asgi.py sets it) holding the file set aside while its body
# arrived, for FileUploadHandler.
REQUEST_ATTRIBUTE = "spooled_upload"
HANDLER = f"{__name__}.FileUploadHandler"


def form_boundary(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data body, as Django's parser takes it, when its
    first file may be set aside (FileUploadHandler parses the forms); else None."""
    if HANDLER not in settings.FILE_UPLOAD_HANDLERS:
        return None  # another handler would take the token for the file's content
    if not content_type.startswith("multipart/") or not content_type.isascii():
        return None
    kind, options = parse_header_parameters(content_type)
    boundary = options.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        return None
    if not MultiPartParser.boundary_re.fullmatch(boundary):
        return None
    return boundary.encode("ascii")


class SpooledUpload:
    """The content of one file part, written to FILE_UPLOAD_TEMP_DIR as it arrived. The file
    is deleted when closed (with its request), unless the storage moved it away first."""

    def __init__(self, directory: str):
        self.token = b"spooled-upload:" + secrets.token_hex(16).encode()
        self.file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed with the request
            suffix=".upload", dir=directory
        )
        self.size = 0
        self.taken = False

    def write(self, data) -> None:
        self.size += self.file.file.write(data)

    def is_token(self, upload: UploadedFile) -> bool:
        """Whether a file Django parsed holds this upload's token, and nothing else."""
        if self.taken or upload.size != len(self.token):
            return False
        upload.seek(0)
        found = upload.read() == self.token
        upload.seek(0)
        return found

    def take(self, parsed: UploadedFile) -> TemporaryUploadedFile:
        """This file, under the name and type Django parsed for its part."""
        self.taken = True
        self.file.file.flush()
        self.file.seek(0)
        return SpooledUploadedFile(
            self.file,
            parsed.name,
            parsed.content_type,
            self.size,
            parsed.charset,
            parsed.content_type_extra,
        )

    def close(self) -> None:
        with suppress(FileNotFoundError):  # moved into the storage
            self.file.close()


class SpooledUploadedFile(TemporaryUploadedFile):
    """A TemporaryUploadedFile whose file was written while the body arrived."""

    def __init__(self, file, name, content_type, size, charset, content_type_extra=None):
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class FileUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for files on disk; a part holding the token of the file set aside
    while the body arrived (SplitBody) becomes that file, with no byte copied."""

    def file_complete(self, file_size):
        parsed = super().file_complete(file_size)
        spooled: SpooledUpload | None = getattr(self.request, REQUEST_ATTRIBUTE, None)
        if spooled is None or not spooled.is_token(parsed):
            return parsed
        parsed.close()  # the token's own temporary file
        return spooled.take(parsed)


def _find(tail: bytes, data: bytes, needle: bytes) -> int:
    """Where `needle` starts in tail + data, or -1; `data` (large) is never copied."""
    if tail:
        found = (tail + data[: len(needle) - 1]).find(needle)
        if found >= 0:
            return found
    found = data.find(needle)
    return found + len(tail) if found >= 0 else -1


class SplitBody:
    """A multipart/form-data body as it arrives: its first file part's content to a
    SpooledUpload (`upload`), everything else to `rest`, with the upload's token in its place.

    write() each piece of the body in order, then finish(). Each state takes bytes and returns
    those left for the state it moved to (None when it took them all): a loop, not recursion,
    however many parts a piece holds.
    """

    def __init__(self, rest: IO[bytes], boundary: bytes, directory: str):
        self.rest = rest
        self.directory = directory
        self.separator = b"--" + boundary
        self.upload: SpooledUpload | None = None
        self._state = self._scan
        self._pending = b""  # bytes not yet placed: a separator may begin in them

    def write(self, data: bytes) -> None:
        left: bytes | None = data
        while left is not None:
            left = self._state(left)

    def finish(self) -> None:
        while self._state == self._head:  # each turn places at least one separator
            left = self._head(b"", final=True)
            while left is not None:
                left = self._state(left)
        if self._state == self._content:
            # No boundary after the file: Django reads it to the end of the body, so does this.
            self.upload.write(self._pending)
        elif self._state == self._scan:
            self.rest.write(self._pending)
        self._pending = b""
        self._state = self._rest

    def _keep_back(self, data: bytes, keep: int, out) -> None:
        """Send out all of pending + data but its last `keep` bytes, which stay pending."""
        if len(data) >= keep:
            out(self._pending)
            out(memoryview(data)[: len(data) - keep])
            self._pending = data[len(data) - keep :]
        else:
            joined = self._pending + data
            out(joined[: len(joined) - keep])
            self._pending = joined[len(joined) - keep :]

    def _scan(self, data: bytes) -> bytes | None:
        """Between parts: everything goes to `rest`, up to and with the next separator."""
        found = _find(self._pending, data, self.separator)
        if found < 0:
            self._keep_back(data, len(self.separator) - 1, self.rest.write)
            return None
        joined = self._pending + data
        after = found + len(self.separator)
        self.rest.write(joined[:after])
        self._pending = b""
        # One file set aside: the rest of the body is Django's.
        self._state = self._head if self.upload is None else self._rest
        return joined[after:]

    def _head(self, data: bytes, final: bool = False) -> bytes | None:
        """After a separator: wait for enough of the part to read its headers as Django will."""
        part = self._pending + data
        ends = part.find(self.separator)
        if ends < 0 and len(part) < MAX_TOTAL_HEADER_SIZE + len(self.separator) and not final:
            self._pending = part
            return None
        self._pending = b""
        # What Django reads as this part: up to the next separator, less the CRLF before it.
        seen = part if ends < 0 else part[: _content_end(part, ends)]
        # Django looks for the end of the headers in the part's first MAX_TOTAL_HEADER_SIZE bytes.
        head_end = seen.find(HEAD_END, 0, MAX_TOTAL_HEADER_SIZE)
        if head_end < 0 or not self._is_plain_file(seen[: head_end + len(HEAD_END)]):
            self._state = self._scan
            return part
        content_start = head_end + len(HEAD_END)
        self.upload = SpooledUpload(self.directory)
        self.rest.write(part[:content_start])
        self.rest.write(self.upload.token)
        self._state = self._content
        return part[content_start:]

    @staticmethod
    def _is_plain_file(head: bytes) -> bool:
        kind, headers, _ = parse_boundary_stream(LazyStream(iter([head])), MAX_TOTAL_HEADER_SIZE)
        return kind == FILE and "content-transfer-encoding" not in headers

    def _content(self, data: bytes) -> bytes | None:
        """The file's bytes go to the upload until the separator that ends them."""
        found = _find(self._pending, data, self.separator)
        if found < 0:
            # Held back: a separator may begin here, and the CRLF before it is not content.
            self._keep_back(data, len(self.separator) + 1, self.upload.write)
            return None
        joined = self._pending + data
        end = _content_end(joined, found)
        self.upload.write(joined[:end])
        self._pending = b""
        self._state = self._rest
        return joined[end:]

    def _rest(self, data: bytes) -> None:
        self.rest.write(data)


def _content_end(data: bytes, separator_at: int) -> int:
    """Where a part's content ends before the separator at `separator_at`: one LF, then one
    CR, are not content (django.http.multipartparser.BoundaryIter._find_boundary)."""
    end = separator_at
    if end > 0 and data[end - 1 : end] == b"\n":
        end -= 1
    if end > 0 and data[end - 1 : end] == b"\r":
        end -= 1
    return end
