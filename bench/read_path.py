"""How fast visitors and API clients read a large contest: its public page and its entries.

Starts the web process of the embedded setup (gunicorn, SQLite; or a fresh database on the
PostgreSQL or MariaDB server this machine runs, with --database) on a free port, seeds a
contest with 10,000 ready, shown entries (plus a few hidden and failed ones) in one bulk
insert, then drives it from threads on this machine, for page 1 and page 200 of the public
page and of the API list (the public's, and the organizer's, who sees every entry):

1. 50 users at once, each asking again 0.5 to 1.5 s after its answer (people reading);
2. 50 clients at once, each asking again as soon as it has its answer;
3. saturation of the public page (and of the organizer's deepest API page): 1, 2, 4 ... 50
   clients asking back to back; the most requests/s served with p95 under 100 ms.

p50 and p95 in ms, requests/s. The baseline, measured in the same run under the same load, is
the web tier's floor: /health (one database query, no template) and a static file (no
database); "×floor" is a line's p95 over /health's.

    .venv/bin/python bench/read_path.py [--entries 10000] [--seconds 10] [--users 50]
        [--think 1.0] [--database sqlite|postgresql|mariadb] [--quick]

--quick (or READ_PATH_QUICK=1): 500 entries, one second a measurement, 10 clients: checks in
under a minute that the benchmark still runs; its numbers mean little.
"""

import argparse
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.service import Service  # noqa: E402

SLUG = "bench"
P95_GOAL_MS = 100
# Run with a database server this machine runs: the keys a Service passes to its processes.
DATABASES = {
    "sqlite": {},
    "postgresql": {
        "db_engine": "postgresql",
        "rds_url": "127.0.0.1",
        "rds_port": "5432",
        "rds_user": "postgres",
        "rds_db": "videoshare",
    },
    "mariadb": {
        "db_engine": "mysql",
        "rds_url": "127.0.0.1",
        "rds_port": "3306",
        "rds_user": "root",
        "rds_db": "videoshare",
    },
}

SEED = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from accounts.services import api_token_issue
from contests.models import Contest
from videos.models import Video

now = timezone.now()
owner = User.objects.create_user(
    email="bench@example.com", password="bench-long-password", name="Bench",
    email_confirmed_at=now,
)
contest = Contest.objects.create(
    owner=owner, name="Bench", slug="{slug}", prize="A camera",
    description="Ten thousand entries.", starts_at=now - timedelta(days=1),
    ends_at=now + timedelta(days=30),
)

def entry(n, **fields):
    values = dict(
        contest=contest, first_name=f"Participant{{n}}", last_name="Bench",
        email=f"p{{n}}@example.com", email_key=f"p{{n}}@example.com",
        message="A short message about this video.", original=f"originals/{{n}}.avi",
        converted=f"videos/{{n}}.mp4", poster=f"posters/{{n}}.jpg",
        status=Video.Status.READY, duration=30.0, width=1280, height=720,
    )
    values.update(fields)
    return Video(**values)

extra = max({entries} // 50, 1)
Video.objects.bulk_create(
    [entry(n) for n in range({entries})]
    + [entry({entries} + n, hidden=True) for n in range(extra)]
    + [entry({entries} + extra + n, status=Video.Status.FAILED, converted="", poster="")
       for n in range(extra)],
    batch_size=500,
)
print("TOKEN", api_token_issue(user=owner).key)
"""


@dataclass
class Result:
    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, quantile: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(int(quantile * len(ordered)), len(ordered) - 1)]

    @property
    def p50(self) -> float:
        return self.ms(0.50)

    @property
    def p95(self) -> float:
        return self.ms(0.95)


def load(
    name: str, url: str, *, clients: int, seconds: float, think: float = 0.0, headers=None
) -> Result:
    """`clients` threads ask for `url` again and again for `seconds` (and at most 200,000
    requests in all), each as soon as it has its answer, or, with `think`, after a pause of
    0.5 to 1.5 times `think` seconds (a person reading the page; the first pauses spread the
    clients' starts); every answer but a 200 is an error."""
    result = Result(name, clients)
    lock = threading.Lock()
    budget = [200_000]
    start = threading.Barrier(clients + 1)

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers or {})
        mine: list[float] = []
        errors = 0
        pause = random.Random()
        start.wait()
        if think:
            time.sleep(pause.uniform(0, think))
        while time.perf_counter() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            began = time.perf_counter()
            try:
                response = session.get(url, timeout=30)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                errors += 1
            if think:
                time.sleep(
                    max(min(pause.uniform(0.5, 1.5) * think, deadline - time.perf_counter()), 0)
                )
        session.close()
        with lock:
            result.latencies.extend(mine)
            result.errors += errors

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        deadline = time.perf_counter() + seconds + 3600  # set for real once all are ready
        start.wait()
        began = time.perf_counter()
        deadline = began + seconds
        for future in futures:
            future.result()
        result.seconds = time.perf_counter() - began
    return result


def seed(service: Service, entries: int) -> str:
    """The bench contest with its entries; the organizer's API token."""
    output = service.manage("shell", "-c", SEED.format(slug=SLUG, entries=entries))
    return re.search(r"^TOKEN (\S+)$", output, re.M)[1]


def static_file(url: str) -> str:
    page = requests.get(f"{url}/{SLUG}/", timeout=30)
    page.raise_for_status()
    return url + re.search(r'href="(/static/[^"]+\.css)"', page.text)[1]


def check(url: str, headers=None) -> None:
    """Fail before measuring if a target does not answer 200."""
    response = requests.get(url, headers=headers or {}, timeout=60)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"


def report_row(result: Result, floor: Result | None) -> str:
    ratio = f"{result.p95 / floor.p95:6.1f}" if floor and floor.p95 else "     -"
    return (
        f"| {result.name:28} | {result.clients:7} | {result.p50:7.1f} | {result.p95:7.1f} "
        f"| {result.rps:7.0f} | {ratio} | {result.errors:6} |"
    )


HEADER = (
    "| what                         | clients | p50 ms  | p95 ms  |  req/s  | ×floor | errors |\n"
    "| ---------------------------- | ------- | ------- | ------- | ------- | ------ | ------ |"
)


def saturation(
    name: str, url: str, steps: list[int], seconds: float, headers=None
) -> tuple[Result | None, int]:
    """Clients asking back to back, more at each step: the best req/s with p95 under the goal,
    and how many requests failed."""
    best, failed = None, 0
    for clients in steps:
        result = load(name, url, clients=clients, seconds=seconds, headers=headers)
        failed += result.errors
        print(report_row(result, None), flush=True)
        if result.p95 < P95_GOAL_MS and (best is None or result.rps > best.rps):
            best = result
    return best, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--users", type=int, default=50, help="clients at once")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause of a user, s")
    parser.add_argument("--database", choices=sorted(DATABASES), default="sqlite")
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get("READ_PATH_QUICK"))
    )
    args = parser.parse_args()
    steps = [1, 2, 4, 8, 16, 32, 50]
    if args.quick:
        args.entries, args.seconds, args.users, args.think, steps = 500, 1.0, 10, 0.2, [1, 4]
    deep = max(args.entries // 50, 1)  # the last page of the public list

    folder = Path(tempfile.mkdtemp(prefix="videoshare-bench-"))
    config = dict(DATABASES[args.database])
    if config:  # a database server: the web processes must share a secret key
        config.setdefault(
            "secret_key", os.environ.get("VIDEOSHARE_SECRET_KEY") or secrets.token_urlsafe(50)
        )
    service = Service(folder / "service", **config)
    service.start(worker=False)
    failed = 0
    try:
        began = time.perf_counter()
        token = seed(service, args.entries)
        print(
            f"{args.database}: {args.entries} entries seeded in {time.perf_counter() - began:.1f} s"
        )
        api = f"{service.url}/api/v1/contests/{SLUG}/videos"
        owner = {"Authorization": f"Bearer {token}"}
        targets = [
            ("floor: /health", f"{service.url}/health", None),
            ("floor: static file", static_file(service.url), None),
            ("page 1", f"{service.url}/{SLUG}/", None),
            (f"page {deep}", f"{service.url}/{SLUG}/?page={deep}", None),
            ("API page 1", f"{api}?page=1", None),
            (f"API page {deep}", f"{api}?page={deep}", None),
            ("API page 1, organizer", f"{api}?page=1", owner),
            (f"API page {deep}, organizer", f"{api}?page={deep}", owner),
        ]
        for _, url, headers in targets:
            check(url, headers)

        for think in (args.think, 0.0):
            if think:
                print(
                    f"\n{args.users} users at once, each asking again {think / 2:g} to "
                    f"{think * 1.5:g} s after its answer; {args.seconds:g} s a line:\n"
                )
            else:
                print(
                    f"\n{args.users} clients at once, asking back to back; "
                    f"{args.seconds:g} s a line:\n"
                )
            print(HEADER)
            floor = None
            for name, url, headers in targets:
                result = load(
                    name,
                    url,
                    clients=args.users,
                    seconds=args.seconds,
                    think=think,
                    headers=headers,
                )
                floor = floor or result
                failed += result.errors
                print(report_row(result, floor), flush=True)

        print(
            f"\nSaturation: clients asking back to back, {', '.join(map(str, steps))} at "
            f"once; the most req/s served with p95 under {P95_GOAL_MS} ms:\n"
        )
        print(HEADER)
        best = {}
        for name, url, headers in [*targets[:4], targets[-1]]:
            best[name], errors = saturation(name, url, steps, args.seconds, headers)
            failed += errors
        floor = best["floor: /health"]
        print()
        for name, result in best.items():
            if result is None:
                print(f"- {name}: p95 never under {P95_GOAL_MS} ms")
                continue
            ratio = f", {result.rps / floor.rps:.2f} × /health's" if floor else ""
            print(
                f"- {name}: {result.rps:.0f} req/s at p95 {result.p95:.0f} ms "
                f"({result.clients} clients{ratio})"
            )
    finally:
        service.stop()
    if failed:
        print(f"\n{failed} requests failed; logs in {service.logs}")
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
