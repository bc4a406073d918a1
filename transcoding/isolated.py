"""probe() in a child process that cannot take its caller down with it.

A few bytes can declare a picture, or a thousand streams, that take gigabytes to read. The
limits in probe() refuse what the headers declare; this runs it in a fresh Python (never a fork
of the caller: a web process may be large and threaded) under an address-space limit, a CPU
limit and a wall clock, so that whatever the headers hide costs the caller nothing. The answer,
a MediaInfo or the refusal, comes back as one JSON line on stdout.
"""

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from .errors import InvalidMedia, TranscodingError
from .limits import LimitExceeded, MediaLimits, MiB
from .probe import NEEDS_MEMORY, UNREADABLE, AudioStream, MediaInfo, VideoStream

# The folder holding the transcoding package: the child imports it from there.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
CHILD_MODULE = "transcoding.probe_child"
READY = b"ready\n"  # the child's first line: limits set, reading begins

DEFAULT_MEMORY_BYTES = 512 * MiB
DEFAULT_SECONDS = 20.0
# Starting Python and importing PyAV takes about 0.1-0.3 s; `seconds` counts from READY, and
# a child that has not even started after this long is broken, not reading.
STARTUP_SECONDS = 15.0
# libav may print a line for every damaged packet: the child's stderr goes to a file capped
# at this size (writes past it fail; Python ignores SIGXFSZ), and only its end is kept.
STDERR_BYTES = 1 * MiB
DETAIL_CHARS = 2000

TOO_SLOW = "The file took too long to read."
OUR_FAULT = "The file could not be checked because of a problem on our side. Please try again."
# How the child dies when it hits its time limits (RLIMIT_CPU, ITIMER_REAL).
TIME_SIGNALS = (signal.SIGXCPU, signal.SIGALRM)
# Killed from outside: the kernel's out-of-memory killer, a shutdown.
OUTSIDE_SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def probe_isolated(
    path: str | os.PathLike[str],
    *,
    limits: MediaLimits | None = None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    seconds: float = DEFAULT_SECONDS,
    warm: bool = False,
    poster: str | os.PathLike[str] | None = None,
) -> MediaInfo:
    """probe(path, limits) in a child process limited to `memory_bytes` of address space and
    `seconds` of CPU and of wall-clock time (after the interpreter has started).

    Raises what probe() raises (InvalidMedia, LimitExceeded with the same reason and fields);
    InvalidMedia when the child runs out of memory or time on the file; a temporary
    TranscodingError when the child could not start or broke on our side.

    warm=True forks the child from a server this process keeps (see ProbeServer): the same
    limits and answers, without starting Python and importing PyAV each time (0.2-0.3 s).
    Meant for long-lived processes that probe one file at a time, like a worker; a call made
    while the server is busy with another thread's, or broken, gets a fresh child instead.

    poster: the same child then also writes there a JPEG of the size the conversion will have
    (probe.write_poster), within the same limits; no file there means it could not, which
    changes nothing in the answer.
    """
    if seconds <= 0 or memory_bytes <= 0:
        raise ValueError("probe_isolated() needs a positive memory_bytes and seconds")
    limits = limits or MediaLimits()
    path = os.path.abspath(os.fspath(path))
    if os.path.getsize(path) == 0:  # and FileNotFoundError, as probe() does
        raise InvalidMedia("The file is empty.")
    request = {
        "path": path,
        "limits": asdict(limits),
        "memory_bytes": memory_bytes,
        "seconds": seconds,
        "parent": os.getpid(),
        "poster": os.path.abspath(os.fspath(poster)) if poster is not None else None,
    }
    if warm:
        outcome = ProbeServer.of_this_process().probe(request)
        if outcome is not None:
            return _answer(*outcome)
    return _answer(*_fresh_child(request, seconds))


def _fresh_child(request: dict[str, Any], seconds: float) -> tuple[bytes, str, int, bool]:
    command = [sys.executable, "-m", CHILD_MODULE, json.dumps(request)]
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            command,
            cwd=PACKAGE_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            start_new_session=True,  # own process group: a kill takes all it started
        )
        timed_out = False
        try:
            stdout, _ = process.communicate(timeout=STARTUP_SECONDS + seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            stdout = _kill(process)
        except BaseException:
            _kill(process)  # e.g. the web server's own timeout: never leave the child behind
            raise
        stderr = _tail(stderr_file)
    return stdout, stderr, process.returncode, timed_out


def _answer(stdout: bytes, stderr: str, returncode: int, timed_out: bool) -> MediaInfo:
    ready = stdout.startswith(READY)
    lines = stdout[len(READY) :].splitlines() if ready else []
    detail = f"probe child exit {returncode}: {stderr[-DETAIL_CHARS:]}"
    if lines and lines[0].endswith(b"}"):  # a whole answer, even if what followed broke
        return _decode(json.loads(lines[0]), detail)
    if not ready:
        # It never began reading the file: Python, PyAV or the settings are broken here.
        raise TranscodingError(OUR_FAULT, permanent=False, detail=detail)
    if timed_out or -returncode in TIME_SIGNALS:
        raise InvalidMedia(TOO_SLOW, detail=detail)
    if -returncode in OUTSIDE_SIGNALS:
        raise TranscodingError(OUR_FAULT, permanent=False, detail=detail)
    # It crashed while reading. Under RLIMIT_AS that is mostly an allocation that failed where
    # nothing checks for it; otherwise libav broke on this file. Either way, again is the same.
    reason = NEEDS_MEMORY if "memory" in stderr.lower() else UNREADABLE
    raise InvalidMedia(reason, detail=detail)


def _decode(answer: dict[str, Any], detail: str) -> MediaInfo:
    if "info" in answer:
        return info_from_json(answer["info"])
    error = answer["error"]
    if error["kind"] == "limit":
        raise LimitExceeded(
            error["limit"],
            allowed=error["allowed"],
            actual=error["actual"],
            detail=error["detail"],
        )
    if error["kind"] == "invalid":
        raise InvalidMedia(error["reason"], detail=error["detail"])
    raise TranscodingError(OUR_FAULT, permanent=False, detail=f"{error['detail']}\n{detail}")


def _kill(process: subprocess.Popen[bytes]) -> bytes:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    stdout, _ = process.communicate()
    return stdout or b""


def _tail(file: IO[bytes]) -> str:
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 4 * DETAIL_CHARS))
    return file.read().decode("utf-8", "replace")


class ProbeServer:
    """A child Python that has imported PyAV once and forks a fresh process for each probe.

    Started like the fresh child (a new interpreter, its own process group, dying with this
    process); each forked process then sets the same limits and runs the same code as a fresh
    child would, and the server reports what a fresh child's caller sees: its output, the end
    of its stderr, its exit status, and whether it was killed for taking too long (the server
    enforces the wall clock, since only it may safely kill the pid). One request at a time;
    one server per process (a fork of this process starts its own).
    """

    _servers: dict[int, "ProbeServer"] = {}
    _servers_lock = threading.Lock()

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.ready = False

    @classmethod
    def of_this_process(cls) -> "ProbeServer":
        with cls._servers_lock:
            return cls._servers.setdefault(os.getpid(), cls())

    def start(self) -> None:
        """Start the server now without waiting for it (it starts on first use otherwise):
        e.g. as a worker process starts, so that its first job does not wait for Python and
        PyAV to load."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                try:
                    self._start()
                except OSError:
                    self.stop()  # the first probe tries again, or uses a fresh child

    def probe(self, request: dict[str, Any]) -> tuple[bytes, str, int, bool] | None:
        """The outcome of probing as `request` says, or None when the server is busy or
        broken: the caller then uses a fresh child, so the server never blames a file."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            return self._probe(request)
        except (OSError, ValueError, KeyError, TimeoutError):
            self.stop()
            return None
        except BaseException:
            # E.g. the task's time limit, mid-request: the next reply would be this one's.
            self.stop()
            raise
        finally:
            self.lock.release()

    def _probe(self, request: dict[str, Any]) -> tuple[bytes, str, int, bool]:
        if self.process is None or self.process.poll() is not None:
            self._start()
        if not self.ready:
            if self._line(STARTUP_SECONDS) + b"\n" != READY:
                raise ValueError("the probe server did not start")
            self.ready = True
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        # The server kills the probe after STARTUP_SECONDS + seconds: beyond that and a margin,
        # the server itself is stuck.
        reply = json.loads(self._line(STARTUP_SECONDS + request["seconds"] + 10))
        return (
            reply["stdout"].encode("latin-1"),
            reply["stderr"],
            reply["returncode"],
            reply["timed_out"],
        )

    def _start(self) -> None:
        self.stop()
        command = [
            sys.executable,
            "-m",
            CHILD_MODULE,
            "--serve",
            json.dumps({"parent": os.getpid()}),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=PACKAGE_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # own process group: a kill takes the probe with it
        )
        self.buffer = b""
        self.ready = False  # until its READY line is read

    def _line(self, seconds: float) -> bytes:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("the probe server did not answer")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ValueError("the probe server exited")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            _kill(process)
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()


def info_to_json(info: MediaInfo) -> dict[str, Any]:
    """MediaInfo as JSON values; fractions as "num/den" strings."""
    return json.loads(json.dumps(asdict(info), default=str))


def info_from_json(data: dict[str, Any]) -> MediaInfo:
    video = data["video"]
    audio = data["audio"]
    if video is not None:
        rate = video["frame_rate"]
        video = VideoStream(
            **{
                **video,
                "sample_aspect_ratio": Fraction(video["sample_aspect_ratio"]),
                "frame_rate": Fraction(rate) if rate is not None else None,
            }
        )
    return MediaInfo(
        format_name=data["format_name"],
        duration=data["duration"],
        video=video,
        audio=AudioStream(**audio) if audio is not None else None,
        streams=data["streams"],
    )
