"""The child process of probe_isolated(): `python -m transcoding.probe_child REQUEST`.

Sets its own limits first (no preexec_fn in the parent, which is unsafe in threaded servers),
says it is ready, then probes the file and prints the answer as one JSON line.

`python -m transcoding.probe_child --serve REQUEST` is the warm variant (probe_isolated(...,
warm=True)): a server that imports PyAV once, then for each request line on stdin forks a
fresh process that does exactly the above. The fork is of this small single-threaded server,
never of the caller; the server itself never opens a file it is asked about.
"""

import contextlib
import ctypes
import json
import math
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

from .errors import InvalidMedia
from .isolated import READY, STARTUP_SECONDS, STDERR_BYTES, _tail, info_to_json
from .limits import LimitExceeded, MediaLimits, lower_rlimit
from .plan import plan_conversion
from .probe import NEEDS_MEMORY, MediaInfo, probe, write_poster

# Below this much address space beyond what the interpreter already uses, the limit is a
# configuration error (nothing could be read), not a property of the file.
MIN_HEADROOM_BYTES = 64 * 1024 * 1024
# The largest file a child that writes a poster may write: a JPEG of the largest picture.
POSTER_FILE_BYTES = 32 * 1024 * 1024


def main() -> None:
    if sys.argv[1] == "--serve":
        serve(json.loads(sys.argv[2]))
        return

    def write(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()

    run(json.loads(sys.argv[1]), write)


def run(request: dict[str, Any], write: Callable[[bytes], None]) -> None:
    """Limit this process, say READY, probe, write the answer as one JSON line."""
    _die_with(request["parent"])
    files = POSTER_FILE_BYTES if request.get("poster") else STDERR_BYTES
    _limit(request["memory_bytes"], request["seconds"], files)
    write(READY)
    # Wall clock: SIGALRM's default action ends the process, even inside libav.
    signal.setitimer(signal.ITIMER_REAL, request["seconds"])
    limits = MediaLimits(**request["limits"])
    answer, info = _probe(request["path"], limits)
    # The answer first: a poster that fails, crashes or runs out of time changes nothing in it.
    write(json.dumps(answer).encode() + b"\n")
    if info is not None and request.get("poster"):
        written = _poster(request["path"], request["poster"], info, limits)
        write(json.dumps({"poster": written}).encode() + b"\n")
    signal.setitimer(signal.ITIMER_REAL, 0)


def _poster(path: str, jpeg: str, info: MediaInfo, limits: MediaLimits) -> bool:
    """A poster of the size the conversion will have (plan_conversion's)."""
    plan = plan_conversion(info)
    try:
        return write_poster(path, jpeg, info=info, size=(plan.width, plan.height), limits=limits)
    except Exception:  # MemoryError too: no poster, the answer stands
        return False


def _probe(path: str, limits: MediaLimits) -> tuple[dict[str, Any], MediaInfo | None]:
    try:
        info = probe(path, limits)
        return {"info": info_to_json(info)}, info
    except LimitExceeded as error:
        error_json = {
            "kind": "limit",
            "limit": error.limit,
            "allowed": error.allowed,
            "actual": error.actual,
            "detail": error.detail,
        }
    except InvalidMedia as error:
        error_json = {"kind": "invalid", "reason": error.reason, "detail": error.detail}
    except MemoryError as error:
        error_json = {"kind": "invalid", "reason": NEEDS_MEMORY, "detail": repr(error)}
    except Exception:
        error_json = {"kind": "internal", "detail": traceback.format_exc()[-2000:]}
    return {"error": error_json}, None


def _die_with(parent: int) -> None:
    # If the web or worker process dies, so does this child (Linux: PR_SET_PDEATHSIG).
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        sys.exit(1)


def _limit(memory_bytes: int, seconds: float, file_bytes: int) -> None:
    in_use = _address_space_in_use()
    if in_use and memory_bytes < in_use + MIN_HEADROOM_BYTES:
        sys.exit(f"probe memory limit {memory_bytes} is below what Python needs ({in_use})")
    lower_rlimit(resource.RLIMIT_AS, memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + seconds)
    lower_rlimit(resource.RLIMIT_CPU, cpu, hard=cpu + 1)  # SIGXCPU, then SIGKILL
    lower_rlimit(resource.RLIMIT_CORE, 0)  # a crash must not dump 512 MB on the disk
    lower_rlimit(resource.RLIMIT_FSIZE, file_bytes)  # stderr's file, and the poster


def _address_space_in_use() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


# ---------------------------------------------------------------- the warm server


def serve(request: dict[str, Any]) -> None:
    """Answer one probe request a line, until the caller closes stdin (or dies)."""
    _die_with(request["parent"])
    lower_rlimit(resource.RLIMIT_CORE, 0)
    import PIL.Image  # noqa: F401 - loaded once here, not in every forked probe that writes a poster

    out = sys.stdout.buffer
    out.write(READY)
    out.flush()
    for line in sys.stdin.buffer:
        reply = _fork_probe(json.loads(line))
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


def _fork_probe(request: dict[str, Any]) -> dict[str, Any]:
    """run(request) in a forked process; what a fresh child's caller would have seen of it."""
    request = {**request, "parent": os.getpid()}
    answer_read, answer_write = os.pipe()
    with tempfile.TemporaryFile() as stderr_file:
        pid = os.fork()
        if pid == 0:
            _forked(request, answer_write, stderr_file.fileno())  # never returns
        os.close(answer_write)
        stdout, timed_out = _read_until_exit(answer_read, pid, STARTUP_SECONDS + request["seconds"])
        _, status = os.waitpid(pid, 0)
        stderr = _tail(stderr_file)
    return {
        "stdout": stdout.decode("latin-1"),
        "stderr": stderr,
        "returncode": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
    }


def _forked(request: dict[str, Any], answer: int, stderr: int) -> None:
    code = 1
    try:
        os.dup2(stderr, 2)
        os.dup2(answer, 1)  # also lets go of the server's own stdout
        os.close(answer)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        run(request, lambda data: _write_all(1, data))
        code = 0
    except SystemExit as exit:
        if isinstance(exit.code, str):
            _write_all(2, exit.code.encode() + b"\n")
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        with contextlib.suppress(BaseException):
            _write_all(2, traceback.format_exc().encode())
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _read_until_exit(fd: int, pid: int, seconds: float) -> tuple[bytes, bool]:
    """Everything the forked process writes, until it exits; killed after `seconds` (it has
    not been reaped, so its pid is still its own)."""
    deadline = time.monotonic() + seconds
    chunks = []
    timed_out = False
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            remaining = deadline - time.monotonic()
            if not timed_out and remaining <= 0:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
            readable, _, _ = select.select([pipe], [], [], None if timed_out else remaining)
            if readable:
                chunk = pipe.read(65536)
                if not chunk:
                    return b"".join(chunks), timed_out
                chunks.append(chunk)


if __name__ == "__main__":
    main()
