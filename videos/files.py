"""HTTP responses for stored files, for storages on local disk and in the cloud alike."""

import mimetypes
import re

from django.core.files.storage import Storage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils._os import safe_join

from videos.models import Video

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def original_download(video: Video):
    """The participant's file as uploaded, for the organizer. Always a download, never inline."""
    storage = video.original.storage
    filename = video.original_name or video.original.name.rsplit("/", 1)[-1]
    try:
        # Cloud storages hand out short-lived signed links.
        url = storage.url(
            video.original.name,
            parameters={
                "ResponseContentDisposition": f'attachment; filename="{ascii_name(filename)}"'
            },
        )
    except (NotImplementedError, TypeError, ValueError):
        url = None
    if url:
        return HttpResponseRedirect(url)
    if not storage.exists(video.original.name):
        raise Http404("The original file is missing.")
    return FileResponse(
        storage.open(video.original.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/octet-stream",
    )


def ascii_name(name: str) -> str:
    return name.encode("ascii", "ignore").decode().replace('"', "") or "video"


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
