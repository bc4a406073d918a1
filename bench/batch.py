"""A batch of 20 mixed uploads through the worker, against the best schedule of ffmpeg alone.

The 20 clips mix containers (AVI, WMV, FLV, and MP4 that is only repackaged), sizes (360p to
720p), frame rates (25 to 60) and pictures. Each is converted:
- by ffmpeg alone, with exactly the arguments the worker gives it (transcode_args), run N at
  a time with T x264 threads for a few (N, T): the time from the first start to the last end;
- by the worker, for a few (worker_concurrency, ffmpeg_threads): all 20 are uploaded with no
  worker running, then a worker starts with those keys; the time from the first claim to the
  last "ready" (the entries' started_at and finished_at in the database).
The ratio is the best bare schedule's time over each worker configuration's (>= 0.95 is the
goal): the configuration that does best is the default of both keys.

    .venv/bin/python bench/batch.py [--quick]
"""

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transcoding  # noqa: E402
from bench import common, service_timing  # noqa: E402
from bench.common import Clip  # noqa: E402
from config import loader  # noqa: E402
from tests.e2e.service import BIN  # noqa: E402
from transcoding.run import FFMPEG_OPTIONS, transcode_args  # noqa: E402

GOAL = 0.95
KINDS = [
    Clip("clean", 1280, 720, 30, 8, suffix=".avi"),
    Clip("talking head", 640, 360, 25, 10, suffix=".wmv"),
    Clip("grain", 854, 480, 25, 6, suffix=".flv"),
    Clip("high motion", 1280, 720, 60, 5, suffix=".avi"),
    Clip("clean", 1280, 720, 30, 10, suffix=".mp4"),  # remuxed
]
# (how many at once, x264 threads each; 0: x264's own choice, 1.5 a core)
BARE = [(1, 0), (2, 0), (2, 1), (2, 2), (3, 1)]
WORKER = [(1, 0), (2, 0), (2, 1), (2, 2)]


def bare_makespan(ffmpeg: str, sources: list[Path], parallel: int, threads: int, folder) -> float:
    commands = []
    for n, source in enumerate(sources):
        plan = transcoding.plan_conversion(transcoding.probe(source), threads=threads)
        output = Path(folder) / f"bare-{n}.mp4"
        args = transcode_args(
            source, output, plan, limits=transcoding.MediaLimits(), budget=transcoding.Budget()
        )
        commands.append([ffmpeg, *FFMPEG_OPTIONS, *args])
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(common.timed, commands))
    return time.perf_counter() - started


def worker_makespan(service, sources, concurrency: int, threads: int, tag: str) -> float:
    emails = len(service.emails())  # the mail folder's, before these
    ids = [
        service_timing.upload(service, source, f"b{tag}{n}@example.com")[0]
        for n, source in enumerate(sources)
    ]
    service.env["VIDEOSHARE_WORKER_CONCURRENCY"] = str(concurrency)
    service.env["VIDEOSHARE_FFMPEG_THREADS"] = str(max(threads, 1))
    # 0: x264's own choice, as for ffmpeg alone (the operator's options come last and win).
    service.env["VIDEOSHARE_FFMPEG_ARGS"] = "-threads 0" if threads == 0 else ""
    name = f"worker-{tag}"
    service.spawn(name, [str(BIN / "celery"), "-A", "config", "worker", "-l", "INFO"])
    try:
        service_timing.wait_for_emails(service, emails + len(ids), 1800)
    finally:
        service.kill(name)
    return service_timing.makespan(service, ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 tiny clips, one of each run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="then the best bare schedule and the defaults in turn"
    )
    args = parser.parse_args()
    kinds, count = KINDS, 20
    bare_runs, worker_runs = BARE, WORKER
    if args.quick:
        kinds = [Clip(k.picture, 320, 240, 25, 1, suffix=k.suffix) for k in KINDS[:4]]
        count = 4
        concurrency = int(loader.DEFAULTS["worker_concurrency"] or 1)
        defaults = (concurrency, loader.ffmpeg_threads(loader.DEFAULTS))
        bare_runs, worker_runs = [defaults], [defaults]
        args.rounds = 1
    sources = [common.make_clip(kinds[n % len(kinds)]) for n in range(count)]
    ffmpeg = transcoding.find_ffmpeg()
    results = []
    with tempfile.TemporaryDirectory(prefix="videoshare-batch-") as folder:
        bare = {}
        for parallel, threads in bare_runs:
            bare[(parallel, threads)] = bare_makespan(ffmpeg, sources, parallel, threads, folder)
            print(f"  ffmpeg alone, {parallel} at once, threads {threads}: "
                  f"{bare[(parallel, threads)]:.2f} s", flush=True)  # fmt: skip
        best = min(bare.values())
        service = service_timing.Service(Path(folder) / "service").start(worker=False)
        try:
            service_timing.open_contest(service.url, "bench", "Bench")
            for concurrency, threads in worker_runs:
                tag = f"{concurrency}x{threads}"
                seconds = worker_makespan(service, sources, concurrency, threads, tag)
                results.append((concurrency, threads, seconds))
                print(f"  worker, concurrency {concurrency}, ffmpeg_threads {threads}: "
                      f"{seconds:.2f} s", flush=True)  # fmt: skip
            # The figure: the best bare schedule against the defaults, in turn, so that both
            # see the same load; the median of the rounds' ratios.
            concurrency = int(loader.DEFAULTS["worker_concurrency"] or 1)
            defaults = (concurrency, loader.ffmpeg_threads(loader.DEFAULTS))
            best_bare = min(bare, key=bare.get)
            rounds = []
            for n in range(args.rounds):
                bare_seconds = bare_makespan(ffmpeg, sources, *best_bare, folder)
                seconds = worker_makespan(service, sources, *defaults, f"r{n}")
                rounds.append((bare_seconds, seconds))
                print(f"  round {n + 1}: ffmpeg alone {bare_seconds:.2f} s, "
                      f"worker with the defaults {seconds:.2f} s", flush=True)  # fmt: skip
        finally:
            service.stop()
    print(
        f"\nffmpeg {ffmpeg}; {count} clips, {sum(s.stat().st_size for s in sources) / 1e6:.0f} MB"
    )
    rows = [
        [f"ffmpeg alone, {p} at once", str(t), f"{s:.2f}", "", ""] for (p, t), s in bare.items()
    ]
    for concurrency, threads, seconds in results:
        ratio = best / seconds
        rows.append(
            [
                f"worker, worker_concurrency {concurrency}",
                str(threads),
                f"{seconds:.2f}",
                f"{ratio:.3f}",
                "met" if ratio >= GOAL else "missed",
            ]
        )
    print(common.table(rows, ["run", "x264 threads", "seconds", "best bare / this", f">= {GOAL}"]))
    chosen = min(results, key=lambda r: r[2])
    print(f"\nfastest worker: worker_concurrency={chosen[0]}, ffmpeg_threads={chosen[1]}")
    ratio = common.median([bare_seconds / seconds for bare_seconds, seconds in rounds])
    print(
        f"defaults (worker_concurrency={defaults[0]}, ffmpeg_threads={defaults[1]}) against "
        f"ffmpeg alone, {best_bare[0]} at once with {best_bare[1]} threads, in turn: median "
        f"{ratio:.3f} of {len(rounds)} rounds (goal >= {GOAL}): "
        f"{'met' if ratio >= GOAL else 'missed'}"
    )


if __name__ == "__main__":
    main()
