"""A form's file is written to disk once, as it arrives (config/uploads.py, config/asgi.py):
what the view gets is what Django's own parser would have made of the body, the stored original
is that very file moved into place, and nothing is left in the upload folder."""

import asyncio
import os
import random
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.files.storage import storages
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from urllib3 import encode_multipart_formdata

from config.asgi import Handler, Receive
from config.uploads import REQUEST_ATTRIBUTE, FileUploadHandler, SplitBody, SpooledUpload

BOUNDARY = "b0undary-x"
VIDEO = random.Random(1).randbytes(300_000) + b"\r\n--b0undar" + b"\r\n" * 3


def form(*parts: bytes, epilogue: bytes = b"--\r\n") -> bytes:
    """A multipart body from raw parts (headers, blank line, content), as clients send it."""
    sep = b"--" + BOUNDARY.encode()
    return b"".join(sep + b"\r\n" + part + b"\r\n" for part in parts) + sep + epilogue


def field(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def file(name: str, filename: str, content: bytes, *headers: str) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    head += "Content-Type: video/x-msvideo\r\n" + "".join(f"{h}\r\n" for h in headers)
    return head.encode() + b"\r\n" + content


BODIES = {
    "fields, then the file": form(field("email", b"ana@example.com"), file("file", "a.avi", VIDEO)),
    "the file, then fields": form(file("file", "a.avi", VIDEO), field("message", b"hola")),
    "an empty file": form(file("file", "a.avi", b""), field("message", b"hola")),
    "a one-byte file": form(file("file", "a.avi", b"x")),
    "two files": form(file("file", "a.avi", VIDEO), file("other", "b.avi", VIDEO[::-1])),
    "a file without a name, then one": form(file("file", "", b"zz"), file("f2", "c.avi", VIDEO)),
    "a file in base64": form(
        file("file", "a.avi", b"aGVsbG8gd29ybGQ=", "Content-Transfer-Encoding: base64")
    ),
    "line feeds only": form(file("file", "a.avi", VIDEO)).replace(b"\r\n", b"\n"),
    "a CR alone before the boundary": form(file("file", "a.avi", VIDEO + b"\r")),
    "the boundary right after the headers": (
        b"--"
        + BOUNDARY.encode()
        + b"\r\n"
        + file("file", "a.avi", b"")
        + b"--"
        + BOUNDARY.encode()
        + b"--\r\n"
    ),  # fmt: skip
    "no closing boundary": form(file("file", "a.avi", VIDEO), epilogue=b"")[: -len(BOUNDARY) - 4],
    "headers past 1 KiB": form(file("file", "a.avi", VIDEO, "X-Pad: " + "p" * 1100)),
    "a preamble": b"preamble\r\n" + form(file("file", "a.avi", VIDEO)),
    "900 fields, then the file": form(
        *[field(f"f{n}", b"") for n in range(900)], file("file", "a.avi", VIDEO)
    ),
    "too many fields": form(*[field("f", b"x") for _ in range(1100)]),
    "a file named in a quoted token": form(file("file", "a.avi", b"spooled-upload:" + b"0" * 32)),
}


def chunkings(body: bytes):
    """The body as one piece, byte by byte near the interesting places, and in random sizes."""
    yield [body]
    yield [body[i : i + 1] for i in range(min(len(body), 2000))] + [body[2000:]]
    rng = random.Random(len(body))
    for _ in range(3):
        pieces, at = [], 0
        while at < len(body):
            size = rng.choice([1, 2, 7, 13, 64, 1000, 65536, 262144])
            pieces.append(body[at : at + size])
            at += size
        yield pieces


def outcome(body: bytes, handler_class, spooled: SpooledUpload | None = None):
    """What Django's parser makes of a body: the fields and files read, or its error."""
    try:
        return django_parse(body, handler_class, spooled)[:2]
    except Exception as error:
        return type(error).__name__, str(error)


def django_parse(body: bytes, handler_class, spooled: SpooledUpload | None = None):
    request = HttpRequest()
    if spooled:
        setattr(request, REQUEST_ATTRIBUTE, spooled)
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }
    post, files = MultiPartParser(meta, BytesIO(body), [handler_class(request)]).parse()
    read = {
        name: [(f.name, f.content_type, f.size, f.read()) for f in uploads]
        for name, uploads in files.lists()
    }
    kinds = {name: [type(f).__name__ for f in uploads] for name, uploads in files.lists()}
    for uploads in files.lists():
        for upload in uploads[1]:
            upload.close()
    return dict(post.lists()), read, kinds


def split(pieces: list[bytes]) -> tuple[bytes, SpooledUpload | None]:
    rest = BytesIO()
    body = SplitBody(rest, BOUNDARY.encode(), str(settings.FILE_UPLOAD_TEMP_DIR))
    for piece in pieces:
        body.write(piece)
    body.finish()
    return rest.getvalue(), body.upload


def temporary_files() -> set[str]:
    return {path.name for path in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()}


@pytest.mark.parametrize("name", BODIES)
def test_a_split_body_parses_as_django_parses_it_whole(name):
    body = BODIES[name]
    expected = outcome(body, TemporaryFileUploadHandler)
    before = temporary_files()
    for pieces in chunkings(body):
        rest, upload = split(pieces)
        if upload:  # every byte is in one place or the other
            assert len(rest) - len(upload.token) + upload.size == len(body)
        assert outcome(rest, FileUploadHandler, upload) == expected, name
        if upload:
            upload.close()
    assert temporary_files() == before


def test_the_first_file_is_set_aside_and_handed_over_as_it_was_written():
    body = form(field("email", b"ana@example.com"), file("file", "a.avi", VIDEO))
    rest, upload = split([body[i : i + 65536] for i in range(0, len(body), 65536)])
    assert VIDEO[:1000] not in rest and upload.token in rest
    assert Path(upload.file.name).read_bytes() == VIDEO
    _, files, kinds = django_parse(rest, FileUploadHandler, upload)
    assert kinds == {"file": ["SpooledUploadedFile"]}
    assert files["file"] == [("a.avi", "video/x-msvideo", len(VIDEO), VIDEO)]
    upload.close()


def test_a_token_a_client_quotes_gets_no_file():
    other = SpooledUpload(str(settings.FILE_UPLOAD_TEMP_DIR))  # another request's
    other.write(b"someone else's video")
    _, files, kinds = django_parse(form(file("file", "a.avi", other.token)), FileUploadHandler)
    assert files["file"][0][3] == other.token and kinds == {"file": ["TemporaryUploadedFile"]}
    # In a body that was split, a quoted token stays what the client sent.
    rest, upload = split([form(file("file", "a.avi", VIDEO), file("f2", "b.avi", other.token))])
    _, files, _ = django_parse(rest, FileUploadHandler, upload)
    assert files["file"][0][3] == VIDEO and files["f2"][0][3] == other.token
    upload.close()
    other.close()


# ---------------------------------------------------------------- through the ASGI handler


def scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/contests/x/videos",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
    }


def receive_parts(parts: list[bytes], then_disconnect: bool = False):
    queue = list(parts)

    async def receive():
        if not queue:
            return {"type": "http.disconnect"}
        part = queue.pop(0)
        more = bool(queue) or then_disconnect
        return {"type": "http.request", "body": part, "more_body": more}

    return receive


def read_request(headers, parts, then_disconnect=False):
    handler = Handler()
    request_scope = scope(headers)
    receive = Receive(receive_parts(parts, then_disconnect), request_scope)
    body = asyncio.run(handler.read_body(receive))
    request, _ = handler.create_request(request_scope, body)
    return request


def multipart(fields: dict) -> tuple[bytes, bytes]:
    body, content_type = encode_multipart_formdata(fields)
    return body, content_type.encode()


def test_the_stored_original_is_the_received_file_moved_not_copied():
    before = temporary_files()
    body, content_type = multipart({"email": "ana@example.com", "file": ("a.avi", VIDEO)})
    pieces = [body[i : i + 262144] for i in range(0, len(body), 262144)]
    request = read_request([(b"content-type", content_type)], pieces)
    assert request.META["CONTENT_LENGTH"] == str(len(body))  # chunked: the whole body's
    upload = request.FILES["file"]
    received = os.stat(upload.temporary_file_path())
    assert (request.POST["email"], upload.size) == ("ana@example.com", len(VIDEO))
    originals = storages["originals"]
    name = originals.save("originals/moved.avi", upload)
    stored = os.stat(originals.path(name))
    assert (stored.st_ino, stored.st_dev) == (received.st_ino, received.st_dev)
    assert Path(originals.path(name)).read_bytes() == VIDEO
    request.close()
    assert temporary_files() == before
    originals.delete(name)


def test_an_unused_file_goes_with_its_request():
    before = temporary_files()
    body, content_type = multipart({"file": ("a.avi", VIDEO)})
    request = read_request([(b"content-type", content_type)], [body])
    assert len(temporary_files() - before) == 1  # set aside while the body arrived
    request.close()  # the view never read it
    assert temporary_files() == before


def test_a_body_cut_off_midway_leaves_no_file():
    before = temporary_files()
    body, content_type = multipart({"file": ("a.avi", VIDEO)})
    handler = Handler()
    receive = Receive(
        receive_parts([body[:200_000]], then_disconnect=True),
        scope([(b"content-type", content_type)]),
    )
    with pytest.raises(RequestAborted):
        asyncio.run(handler.read_body(receive))
    assert temporary_files() == before


@pytest.mark.parametrize(
    "content_type",
    [b"application/json", b"multipart/mixed; boundary=xyz", b"multipart/form-data; boundary="],
)
def test_other_bodies_are_spooled_whole(content_type):
    request = read_request([(b"content-type", content_type)], [b"--xyz\r\n", b"data"])
    assert not hasattr(request, REQUEST_ATTRIBUTE)
    assert request.read() == b"--xyz\r\ndata"


def test_with_another_upload_handler_bodies_are_spooled_whole(settings):
    settings.FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
    body, content_type = multipart({"file": ("a.avi", VIDEO)})
    request = read_request([(b"content-type", content_type)], [body])
    assert not hasattr(request, REQUEST_ATTRIBUTE)
    assert request.FILES["file"].read() == VIDEO
    request.close()
