"""Run every benchmark in bench/, one after the other.

    .venv/bin/python bench/run.py            # all of them, full size (a few minutes each)
    .venv/bin/python bench/run.py --quick    # tiny inputs: only checks that each still runs
    .venv/bin/python bench/run.py remux      # only the named ones

A benchmark is a bench/*.py with a main(); with --quick, those that take --quick get it, the
older ones get small inputs of their own, and every one sees VIDEOSHARE_BENCH_QUICK=1 in its
environment. Exits non-zero if any benchmark failed to run.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run", "common", "service_timing"}
# Quick arguments of the benchmarks that have no --quick of their own.
QUICK_ARGS = {
    "upload_to_email": ["--seconds", "2", "--size", "320x240"],
    "attacks": ["--repeat", "1"],
}
# The ones these goals depend on run first.
FIRST = ["encoding", "remux", "worker_overhead", "batch"]


def benchmarks() -> list[str]:
    found = sorted(
        path.stem
        for path in HERE.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and "def main(" in path.read_text()
    )
    return [name for name in FIRST if name in found] + [n for n in found if n not in FIRST]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs, for CI")
    parser.add_argument("names", nargs="*", help="only these benchmarks")
    args = parser.parse_args()
    names = args.names or benchmarks()
    failed = []
    for name in names:
        script = HERE / f"{name}.py"
        extra = []
        if args.quick:
            extra = ["--quick"] if "--quick" in script.read_text() else QUICK_ARGS.get(name, [])
        print(f"\n=== {name} {' '.join(extra)}".rstrip(), flush=True)
        started = time.monotonic()
        env = {**os.environ, "VIDEOSHARE_BENCH_QUICK": "1"} if args.quick else None
        done = subprocess.run([sys.executable, str(script), *extra], cwd=HERE.parent, env=env)
        print(f"=== {name}: {time.monotonic() - started:.0f} s, exit {done.returncode}", flush=True)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
