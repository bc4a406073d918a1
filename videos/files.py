"""Stored files: HTTP responses and the worker's local copies, on local disk and S3 alike."""

import mimetypes
import re
import shutil
from pathlib import Path

from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils._os import safe_join
from django.utils.http import content_disposition_header

from config import aws
from videos.models import Video

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def on_s3(storage: Storage) -> bool:
    # By module, not isinstance: the embedded setup never imports boto3.
    return type(storage).__module__.startswith("storages.backends.s3")


def original_download(video: Video):
    """The participant's file as uploaded, for the organizer. Always a download, never inline."""
    storage, name = video.original.storage, video.original.name
    filename = video.original_name or name.rsplit("/", 1)[-1]
    if not name or not storage.exists(name):
        raise Http404("The original file is missing.")
    if on_s3(storage):
        # A short-lived signed link (config/storage.py ORIGINAL_LINK_SECONDS): the browser
        # fetches the bytes from S3, not through a web process. S3 answers with these headers.
        return HttpResponseRedirect(
            storage.url(
                name,
                parameters={
                    "ResponseContentDisposition": content_disposition_header(True, filename),
                    "ResponseContentType": "application/octet-stream",
                },
            )
        )
    return FileResponse(
        storage.open(name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/octet-stream",
    )


def copy_to_path(field: FieldFile, path: Path) -> None:
    """Copy a stored file to a local path in pieces, never whole in memory: a worker's copy."""
    with open(path, "wb") as local:
        if on_s3(field.storage):
            aws.s3_download(field.storage, field.name, local)  # parallel ranged GETs
        else:
            with field.storage.open(field.name, "rb") as stored:
                shutil.copyfileobj(stored, local, length=1024 * 1024)


def public_media(request, path: str, storage: Storage = default_storage):
    """Serve a public file from local storage, with byte ranges (Safari needs them to play)."""
    try:
        safe_join(storage.location, path)
    except Exception:
        raise Http404 from None
    if not path or not storage.exists(path):
        raise Http404
    size = storage.size(path)
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", ""))
    if not match or (not match[1] and not match[2]):
        response = FileResponse(storage.open(path, "rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = "public, max-age=3600"
        return response
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
    else:  # "bytes=-N": the last N bytes
        start, end = max(size - int(match[2]), 0), size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = storage.open(path, "rb")
    handle.seek(start)
    response = FileResponse(
        limited_reader(handle, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Length"] = str(end - start + 1)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "public, max-age=3600"
    return response


def limited_reader(handle, length: int):
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
