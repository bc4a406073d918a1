"""Temporary files a crash left behind: removed when a web process or a worker starts.

Plain Python (no Django): gunicorn's start-up hook and the worker's both call it.
"""

import shutil
import time
from pathlib import Path

# An upload being received writes at least every BODY_IDLE_SECONDS (60 s, config/asgi.py)
# or is dropped: a file untouched for longer belongs to no request.
UPLOAD_IDLE_SECONDS = 120


def remove_stale(folder: Path, *, older_than: float) -> int:
    """Delete the files and folders directly in `folder` untouched for `older_than` seconds.

    Only old entries go: another process on this machine may be using the fresh ones. Returns
    how many were removed.
    """
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for entry in folder.iterdir():
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except FileNotFoundError:
            continue  # removed meanwhile by its owner
    return removed
