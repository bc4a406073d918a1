"""The child process of probe_isolated(): `python -m transcoding.probe_child REQUEST`.

Sets its own limits first (no preexec_fn in the parent, which is unsafe in threaded servers),
says it is ready, then probes the file and prints the answer as one JSON line.
"""

import ctypes
import json
import math
import os
import resource
import signal
import sys
import traceback
from typing import Any

from .errors import InvalidMedia
from .isolated import READY, STDERR_BYTES, info_to_json
from .limits import LimitExceeded, MediaLimits, lower_rlimit
from .probe import NEEDS_MEMORY, probe

# Below this much address space beyond what the interpreter already uses, the limit is a
# configuration error (nothing could be read), not a property of the file.
MIN_HEADROOM_BYTES = 64 * 1024 * 1024


def main() -> None:
    request = json.loads(sys.argv[1])
    _die_with(request["parent"])
    _limit(request["memory_bytes"], request["seconds"])
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    # Wall clock: SIGALRM's default action ends the process, even inside libav.
    signal.setitimer(signal.ITIMER_REAL, request["seconds"])
    answer = _probe(request["path"], MediaLimits(**request["limits"]))
    signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _probe(path: str, limits: MediaLimits) -> dict[str, Any]:
    try:
        return {"info": info_to_json(probe(path, limits))}
    except LimitExceeded as error:
        return {
            "error": {
                "kind": "limit",
                "limit": error.limit,
                "allowed": error.allowed,
                "actual": error.actual,
                "detail": error.detail,
            }
        }
    except InvalidMedia as error:
        return {"error": {"kind": "invalid", "reason": error.reason, "detail": error.detail}}
    except MemoryError as error:
        return {"error": {"kind": "invalid", "reason": NEEDS_MEMORY, "detail": repr(error)}}
    except Exception:
        return {"error": {"kind": "internal", "detail": traceback.format_exc()[-2000:]}}


def _die_with(parent: int) -> None:
    # If the web or worker process dies, so does this child (Linux: PR_SET_PDEATHSIG).
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        sys.exit(1)


def _limit(memory_bytes: int, seconds: float) -> None:
    in_use = _address_space_in_use()
    if in_use and memory_bytes < in_use + MIN_HEADROOM_BYTES:
        sys.exit(f"probe memory limit {memory_bytes} is below what Python needs ({in_use})")
    lower_rlimit(resource.RLIMIT_AS, memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + seconds)
    lower_rlimit(resource.RLIMIT_CPU, cpu, hard=cpu + 1)  # SIGXCPU, then SIGKILL
    lower_rlimit(resource.RLIMIT_CORE, 0)  # a crash must not dump 512 MB on the disk
    lower_rlimit(resource.RLIMIT_FSIZE, STDERR_BYTES)  # the file that stderr goes to


def _address_space_in_use() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


if __name__ == "__main__":
    main()
