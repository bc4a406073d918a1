"""Stored files: HTTP responses and the worker's local copies, on local disk and S3 alike."""

import contextlib
import logging
import os
import posixpath
import re
import shutil
from pathlib import Path

from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils._os import safe_join
from django.utils.encoding import filepath_to_uri
from django.utils.http import content_disposition_header

from config import aws
from config.storage import HIDDEN_PREFIX, PUBLIC_PREFIXES
from videos.models import Video

logger = logging.getLogger(__name__)

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def on_s3(storage: Storage) -> bool:
    # By module, not isinstance: the embedded setup never imports boto3. __class__, not type():
    # default_storage is a lazy proxy, whose __class__ is the storage's own.
    return any(
        cls.__module__.startswith("storages.backends.s3") for cls in storage.__class__.__mro__
    )


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


# What we make, shown in the page: MP4s from the conversion, JPEG posters, re-encoded banners,
# and each entry's folder (videos/assets.py): thumbnails, HLS playlists and their fMP4 files,
# the storyboard. Any other file under /media/ (a banner stored before banners were
# re-encoded) is a download.
INLINE_TYPES = {
    ("videos", ".mp4"): "video/mp4",
    ("posters", ".jpg"): "image/jpeg",
    ("entries", ".jpg"): "image/jpeg",
    ("entries", ".m3u8"): "application/vnd.apple.mpegurl",
    ("entries", ".mp4"): "video/mp4",
    ("entries", ".m4s"): "video/mp4",  # a rendition's fMP4 segments, in one file
    ("entries", ".vtt"): "text/vtt",
    ("banners", ".jpg"): "image/jpeg",
    ("banners", ".png"): "image/png",
    ("banners", ".webp"): "image/webp",
}
HIDDEN_FILE = re.compile(r"^hidden/(?:videos|posters)/([0-9a-f-]{36})\.(?:mp4|jpg)$")


def media_type(path: str) -> tuple[str, bool]:
    """The Content-Type a file under /media/ is sent with, and whether it may show inline."""
    folder = path.removeprefix(HIDDEN_PREFIX).split("/", 1)[0]
    content_type = INLINE_TYPES.get((folder, posixpath.splitext(path)[1].lower()))
    return (content_type, True) if content_type else ("application/octet-stream", False)


def _may_read(request, path: str) -> bool:
    """Public prefixes for anyone; a hidden entry's files for its contest's organizer only."""
    if path.startswith(PUBLIC_PREFIXES):
        return True
    match = HIDDEN_FILE.match(path)
    if not match:
        return False
    from videos.selectors import video_of_owner

    video = video_of_owner(user=request.user, video_id=match[1])
    return video is not None and path in (video.converted.name, video.poster.name)


def public_media(request, path: str, storage: Storage = default_storage):
    """Serve a file of the public storage from local disk, with byte ranges (Safari needs them
    to play). Only the public prefixes, and a hidden entry's files to its organizer; never
    typed from the stored name alone: what we did not make is sent as a download."""
    if path != posixpath.normpath(path) or path.startswith("/"):
        raise Http404  # "videos/../hidden/..." must not pass for a public path
    try:
        safe_join(storage.location, path)
    except Exception:
        raise Http404 from None
    if not _may_read(request, path) or not storage.exists(path):
        raise Http404
    size = storage.size(path)
    content_type, inline = media_type(path)
    match = RANGE.match(request.headers.get("Range", ""))
    if not match or (not match[1] and not match[2]):
        response = FileResponse(storage.open(path, "rb"), content_type=content_type)
    else:
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # "bytes=-N": the last N bytes
            start, end = max(size - int(match[2]), 0), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _media_headers(response, path, inline)
        handle = storage.open(path, "rb")
        handle.seek(start)
        response = FileResponse(
            limited_reader(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return _media_headers(response, path, inline)


def _media_headers(response, path: str, inline: bool):
    response["X-Content-Type-Options"] = "nosniff"  # the type above, never a guess from bytes
    response["Content-Disposition"] = content_disposition_header(
        not inline, posixpath.basename(path)
    )
    # A hidden entry's file is the organizer's alone: no shared cache may keep it.
    public = path.startswith(PUBLIC_PREFIXES)
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-cache"
    return response


# ---------------------------------------------------------------- moving and deleting files


def move(storage: Storage, source: str, target: str, *, public: bool) -> bool:
    """Move a stored file to another name of the same storage, at once for every reader: the
    source name stops answering. Idempotent: a source already moved is not an error. On S3
    the moved object is private, or gets s3_public_acl when it becomes public. False when
    neither name holds the file."""
    if on_s3(storage):
        if aws.s3_move(storage, source, target, acl=storage.default_acl if public else None):
            return True
        return storage.exists(target)
    destination = Path(storage.path(target))
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(storage.path(source), destination)  # atomic on one file system
    except FileNotFoundError:
        return destination.exists()
    return True


def folder_files(storage: Storage, folder: str) -> list[str]:
    """The names of the files in a folder of the storage ("entries/<id>/"); none when it is
    missing. Entry folders are flat: sub-folders are not looked into."""
    try:
        _folders, names = storage.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder + name for name in names]


def move_folder(storage: Storage, source: str, target: str, *, public: bool) -> list[str]:
    """Move every file of folder `source` into folder `target` (move() each: idempotent, the
    source names stop answering). Returns the moved files' new names."""
    moved = []
    for name in folder_files(storage, source):
        destination = target + name.removeprefix(source)
        if move(storage, name, destination, public=public):
            moved.append(destination)
    if not on_s3(storage):
        with contextlib.suppress(OSError):  # left behind when empty; a file still there stays
            os.rmdir(storage.path(source))
    return moved


def delete_now(stored: list[tuple[Storage, str]]) -> None:
    """Delete stored files now, raising on the first storage error, so a caller inside a
    transaction keeps its rows when their files could not go (and may try again)."""
    by_storage: dict[int, tuple[Storage, list[str]]] = {}
    for storage, name in stored:
        if name:
            by_storage.setdefault(id(storage), (storage, []))[1].append(name)
    for storage, names in by_storage.values():
        if on_s3(storage):
            aws.s3_delete(storage, names)  # 1000 keys a request
        else:
            for name in names:
                storage.delete(name)  # a missing file is not an error


# More paths than this in one invalidation are cleared by their folders' wildcards instead:
# CloudFront takes 3000 file paths in progress per distribution, 15 wildcards.
MAX_INVALIDATION_PATHS = 100


def cdn_forget(storage: Storage, names: list[str]) -> str | None:
    """Make the CDN in front of the public storage (CloudFront, when cf_url is set) stop
    serving its copies of these files: for a file that was just hidden, deleted or replaced.
    Returns the invalidation's ID; None when there is no CDN or nothing to forget. A failure
    is logged, not raised: the files are already gone from the origin, and the CDN's copies
    expire with their Cache-Control (an hour)."""
    host = getattr(storage, "custom_domain", None) if on_s3(storage) else None
    names = [name for name in names if name and name.startswith(PUBLIC_PREFIXES)]
    if not host or not names:
        return None
    paths = sorted({"/" + filepath_to_uri(name) for name in names})
    if len(paths) > MAX_INVALIDATION_PATHS:
        paths = sorted({"/" + name.split("/", 1)[0] + "/*" for name in names})
    try:
        invalidation = aws.cloudfront_invalidate(
            host=host, distribution_id=storage.cloudfront_distribution_id, paths=paths
        )
    except Exception as error:
        logger.error(
            "CloudFront may serve %s files for up to an hour: %s",
            len(paths),
            error,
            extra={"event": "cdn_invalidation_failed", "paths": paths[:20], "error": str(error)},
        )
        return None
    logger.info(
        "CloudFront forgets %s paths",
        len(paths),
        extra={"event": "cdn_invalidated", "invalidation": invalidation, "paths": paths[:20]},
    )
    return invalidation


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
