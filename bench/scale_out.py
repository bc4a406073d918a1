"""Two worker machines convert a batch about twice as fast as one.

The distributed setup on this machine: one web process, PostgreSQL and RabbitMQ (a fresh
database and a vhost of the run's own), and workers that each stand for a machine with one
core: pinned to a core of their own (taskset), one conversion at a time, one x264 thread.
The 20 mixed clips of bench/batch.py are uploaded with no worker running, then
- one worker (core 0) converts them;
- the same 20 are uploaded again, and two workers (cores 0 and 1) convert them.
Each time: from the first claim to the last "ready" (started_at, finished_at in the database).
The baseline, in the same run: ffmpeg alone with the worker's arguments, one file after the
other on core 0 (one machine's best), and the same on both cores (two machines' best).
The goal, "roughly double": two workers at least 0.9 of the speed-up ffmpeg alone gets from
the second core (two cores of one machine share its memory and caches, so even ffmpeg alone
does not double here; two machines would).

Needs 2 cores, PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672 (guest/guest,
rabbitmqctl to make the vhost): without them it says so and does nothing (under CI=true it
fails).

    .venv/bin/python bench/scale_out.py [--quick]
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import common, service_timing  # noqa: E402
from bench.batch import KINDS  # noqa: E402
from bench.common import Clip  # noqa: E402
from tests.e2e.service import BIN, Service  # noqa: E402
from tests.servers import SERVERS, reachable  # noqa: E402
from transcoding.run import FFMPEG_OPTIONS, transcode_args  # noqa: E402

GOAL = 0.9  # of ffmpeg alone's speed-up from a second core
CORES = (0, 1)


def missing() -> str | None:
    """Why this machine cannot run the benchmark, or None."""
    if len(os.sched_getaffinity(0)) < 2:
        return "it needs 2 cores"
    if not shutil.which("taskset") or not shutil.which("rabbitmqctl"):
        return "it needs taskset and rabbitmqctl"
    for name in ("postgresql", "rabbitmq"):
        if not reachable(*SERVERS[name]):
            return f"{name} is not answering on {SERVERS[name][0]}:{SERVERS[name][1]}"
    return None


def bare_makespan(ffmpeg: str, sources: list[Path], cores: tuple[int, ...], folder) -> float:
    """ffmpeg alone, one thread, each core taking the next file when its last one is done."""
    commands = []
    for n, source in enumerate(sources):
        plan = transcoding.plan_conversion(transcoding.probe(source), threads=1)
        output = Path(folder) / f"bare-{n}.mp4"
        args = transcode_args(
            source, output, plan, limits=transcoding.MediaLimits(), budget=transcoding.Budget()
        )
        commands.append([ffmpeg, *FFMPEG_OPTIONS, *args])
    queue = list(commands)

    def one_core(core: int) -> None:
        while True:
            try:
                command = queue.pop(0)
            except IndexError:  # the other core took the last one
                return
            common.timed(["taskset", "-c", str(core), *command])

    started = time.perf_counter()
    with ThreadPoolExecutor(len(cores)) as pool:
        list(pool.map(one_core, cores))
    return time.perf_counter() - started


def workers_makespan(service, sources, cores: tuple[int, ...], tag: str) -> float:
    emails = len(service.emails())  # the mail folder's, before these
    ids = [
        service_timing.upload(service, source, f"s{tag}{n}@example.com")[0]
        for n, source in enumerate(sources)
    ]
    names = [f"worker-{tag}-{core}" for core in cores]
    for core, name in zip(cores, names, strict=True):
        service.spawn(name, ["taskset", "-c", str(core), str(BIN / "celery"), "-A", "config",
                             "worker", "-l", "INFO", "-n", f"{name}@%h"])  # fmt: skip
    try:
        service_timing.wait_for_emails(service, emails + len(ids), 1800)
    finally:
        for name in names:
            service.kill(name)
    return service_timing.makespan(service, ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 tiny clips")
    args = parser.parse_args()
    reason = missing()
    if reason:
        message = f"scale_out: not run, {reason}"
        sys.exit(message) if os.environ.get("CI") else print(message)
        return
    kinds, count = KINDS, 20
    if args.quick:
        kinds, count = [Clip(k.picture, 320, 240, 25, 1, suffix=k.suffix) for k in KINDS[:4]], 4
    sources = [common.make_clip(kinds[n % len(kinds)]) for n in range(count)]
    ffmpeg = transcoding.find_ffmpeg()
    vhost = f"videoshare-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="videoshare-scale-") as folder:
            bare_one = bare_makespan(ffmpeg, sources, CORES[:1], folder)
            print(f"  ffmpeg alone, core 0: {bare_one:.2f} s", flush=True)
            bare_two = bare_makespan(ffmpeg, sources, CORES, folder)
            print(f"  ffmpeg alone, cores 0 and 1: {bare_two:.2f} s", flush=True)
            service = Service(
                Path(folder) / "service",
                db_engine="postgresql", rds_url="127.0.0.1", rds_port="5432",
                rds_user="postgres", rds_pass="", rds_db="videoshare",
                broker_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                worker_concurrency="1", ffmpeg_threads="1", secret_key=secrets.token_urlsafe(50),
            )  # fmt: skip
            service.start(worker=False)
            try:
                service_timing.open_contest(service.url, "bench", "Bench")
                one = workers_makespan(service, sources, CORES[:1], "one")
                print(f"  one worker: {one:.2f} s", flush=True)
                two = workers_makespan(service, sources, CORES, "two")
                print(f"  two workers: {two:.2f} s", flush=True)
            finally:
                service.stop()
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
    print(f"\nffmpeg {ffmpeg}; {count} clips; PostgreSQL + RabbitMQ; a worker = a core")
    rows = [
        ["ffmpeg alone, 1 core", f"{bare_one:.2f}", ""],
        ["ffmpeg alone, 2 cores", f"{bare_two:.2f}", f"{bare_one / bare_two:.2f}"],
        ["1 worker (1 core)", f"{one:.2f}", ""],
        ["2 workers (a core each)", f"{two:.2f}", f"{one / two:.2f}"],
    ]
    print(common.table(rows, ["run", "seconds", "speed-up"]))
    speedup, bare_speedup = one / two, bare_one / bare_two
    share = speedup / bare_speedup
    print(
        f"\ntwo workers {speedup:.2f}x one, ffmpeg alone {bare_speedup:.2f}x: {share:.3f} of it "
        f"(goal >= {GOAL}): {'met' if share >= GOAL else 'missed'}; one worker "
        f"{bare_one / one:.3f} of ffmpeg alone on a core, two {bare_two / two:.3f} of it on two"
    )


if __name__ == "__main__":
    main()
