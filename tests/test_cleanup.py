"""Temporary files a crash left behind go when a process starts; files in use stay."""

import os
import time

import pytest

from config.cleanup import remove_stale
from tests.e2e.service import Service


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_it_removes_old_files_and_folders_and_keeps_fresh_ones(tmp_path):
    old_file, old_folder, fresh = tmp_path / "a.upload", tmp_path / "job-1", tmp_path / "b.upload"
    old_file.write_bytes(b"half an upload")
    old_folder.mkdir()
    (old_folder / "original").write_bytes(b"x")
    fresh.write_bytes(b"still arriving")
    age(old_file, 600)
    age(old_folder, 600)
    assert remove_stale(tmp_path, older_than=120) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["b.upload"]


def test_a_missing_folder_is_nothing_to_clean(tmp_path):
    assert remove_stale(tmp_path / "nope", older_than=1) == 0


@pytest.mark.e2e
def test_the_web_process_removes_uploads_a_crash_left_behind(tmp_path):
    uploads = tmp_path / "tmp"
    uploads.mkdir()
    stale, fresh = uploads / "tmpabc.upload", uploads / "tmpdef.upload"
    stale.write_bytes(b"\0" * 1024)
    fresh.write_bytes(b"\0" * 1024)
    age(stale, 3600)
    service = Service(tmp_path).start(worker=False)
    try:
        assert not stale.exists()
        assert fresh.exists()
    finally:
        service.stop()
