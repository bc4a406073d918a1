"""How fast the web process takes in a large upload, and what memory it costs.

Starts the embedded web process (gunicorn + uvicorn workers, SQLite; no worker, so nothing is
converted while it is measured), makes a 1 GiB video and uploads it to an open contest until
the answer: received, parsed, checked by content in a child process, stored as the original.
Both ways a browser sends an entry are measured: the API (POST /api/v1/contests/<slug>/videos,
where the contest page's form posts with script) and the page itself (POST /<slug>/, the form
without script, with its CSRF token). The baseline, measured in the same run from the same web
process, is the same file served back as a download (/media/videos/..., a FileResponse).

The file is a real video that the upload check accepts: 26 s of uncompressed 1280x720 pictures
in an AVI (rawvideo, made by ffmpeg from a test source in a few seconds), within the media
limits. Each stored original is deleted after its run, so runs do not share disk write-back.

The client costs as little as it can on both sides (the file is sent with sendfile(), the
download read into one buffer): the times are the web process's. Reported per operation:
wall seconds (median of the runs), of which "after body" is the time from the last byte sent
to the answer (parse, check, store); the web workers' CPU seconds (with the check's child
process), steadier than wall time on a busy machine; and memory: each web worker's resident
size before the request against its peak during it (VmHWM, reset first through
/proc/PID/clear_refs, and VmRSS sampled every 10 ms), the largest growth of a worker.

    .venv/bin/python bench/upload_path.py [--mib 1024] [--repeat 3]
    VIDEOSHARE_BENCH_QUICK=1 .venv/bin/python bench/upload_path.py   # 64 MiB, once (CI)
"""

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.service import Service, open_contest  # noqa: E402
from tests.media import FFMPEG  # noqa: E402

MiB = 1024 * 1024
WIDTH, HEIGHT = 1280, 720
FRAME_BYTES = WIDTH * HEIGHT * 3 // 2  # yuv420p
READ_BYTES = 1 * MiB
SLUG = "bench-upload"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICK = os.sysconf("SC_CLK_TCK")


def make_video(path: Path, size: int) -> Path:
    """An uncompressed AVI of about `size` bytes (never more): a real video, made fast."""
    frames = max(size // FRAME_BYTES - 1, 1)
    command = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30",
        "-frames:v", str(frames), "-c:v", "rawvideo", "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=600)
    return path


# ---------------------------------------------------------------- the web workers


def web_workers(service: Service) -> list[int]:
    master = service.processes["web"].pid
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def _status_kib(pid: int, field: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith(field)), 0)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system time of the processes and of their children they waited for."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / TICK


class Watch:
    """The workers' CPU time and each one's peak resident size while the block runs."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.before = {pid: _status_kib(pid, "VmRSS:") for pid in pids}
        self.peak = dict(self.before)
        self.reset = True
        for pid in pids:
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            except OSError:
                self.reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.cpu = -_cpu_seconds(pids)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], _status_kib(pid, "VmRSS:"))

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu += _cpu_seconds(self.pids)
        self._stop.set()
        self._thread.join()
        if self.reset:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], _status_kib(pid, "VmHWM:"))

    def growth_mib(self) -> float:
        """The largest growth of one worker (the one that served the request)."""
        return max(self.peak[pid] - self.before[pid] for pid in self.pids) / 1024


# ---------------------------------------------------------------- the client


@dataclass
class Timing:
    seconds: float  # until the whole answer
    after_body: float  # from the last byte sent to the whole answer
    status: int
    answer: str


def upload(service: Service, path: str, video: Path, fields: dict, headers: dict) -> Timing:
    """POST a multipart form with the file, sent by sendfile() after the fields."""
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{video.name}"\r\n'
        "Content-Type: video/x-msvideo\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = video.stat().st_size
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=600)
    started = time.perf_counter()
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.sock.sendall(head)
    with open(video, "rb") as source:
        connection.sock.sendfile(source)  # os.sendfile(): the bytes never pass through Python
    connection.sock.sendall(tail)
    sent = time.perf_counter()
    response = connection.getresponse()
    answer = response.read().decode()
    done = time.perf_counter()
    connection.close()
    return Timing(done - started, done - sent, response.status, answer)


def api_upload(service: Service, video: Path, email: str) -> Timing:
    fields = {"first_name": "Bench", "last_name": "Api", "email": email}
    timing = upload(service, f"/api/v1/contests/{SLUG}/videos", video, fields, {})
    assert timing.status == 202, (timing.status, timing.answer)
    return timing


def page_upload(service: Service, video: Path, email: str) -> Timing:
    """The contest page's form without script: its CSRF token and cookie, then a redirect."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
    connection.request("GET", f"/{SLUG}/")
    page = connection.getresponse()
    html = page.read().decode()
    cookies = "; ".join(
        value.split(";", 1)[0] for name, value in page.getheaders() if name.lower() == "set-cookie"
    )
    connection.close()
    fields = {
        "csrfmiddlewaretoken": CSRF_FIELD.search(html)[1],
        "first_name": "Bench",
        "last_name": "Page",
        "email": email,
    }
    timing = upload(service, f"/{SLUG}/", video, fields, {"Cookie": cookies})
    assert timing.status == 302, (timing.status, timing.answer[-2000:])  # back to the page
    return timing


def download(service: Service, path: str, size: int) -> Timing:
    """GET a file; seconds until its last byte."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=600)
    buffer = memoryview(bytearray(READ_BYTES))
    received = 0
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    while count := response.readinto(buffer):
        received += count
    done = time.perf_counter()
    connection.close()
    assert (response.status, received) == (200, size), (response.status, received)
    return Timing(done - started, 0.0, response.status, "")


# ---------------------------------------------------------------- the run


@dataclass
class Runs:
    timings: list[Timing] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    growth: list[float] = field(default_factory=list)

    def add(self, workers: list[int], action) -> None:
        with Watch(workers) as watch:
            self.timings.append(action())
        self.cpu.append(watch.cpu)
        self.growth.append(watch.growth_mib())

    def seconds(self) -> float:
        return statistics.median(t.seconds for t in self.timings)

    def row(self, label: str, mib: float) -> str:
        after = statistics.median(t.after_body for t in self.timings)
        after_text = f"{after:10.2f}" if after else f"{'':10}"
        return (
            f"{label:26} {self.seconds():8.2f} {mib / self.seconds():7.0f} {after_text} "
            f"{statistics.median(self.cpu):8.2f} {max(self.growth):10.1f}"
        )


def main() -> None:
    quick = os.environ.get("VIDEOSHARE_BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=64 if quick else 1024, help="file size")
    parser.add_argument("--repeat", type=int, default=1 if quick else 3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="videoshare-bench-upload-"))
    try:
        run(folder, args.mib * MiB, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, size: int, repeat: int) -> None:
    video = make_video(folder / "entry.avi", size)
    size = video.stat().st_size
    started = time.perf_counter()
    shutil.copyfile(video, folder / "copy.avi")
    copy_seconds = time.perf_counter() - started
    (folder / "copy.avi").unlink()

    data = folder / "service"
    service = Service(data, max_upload_mb=str(size // MiB + 16))
    service.start(worker=False)
    downloads, api, page = Runs(), Runs(), Runs()
    try:
        open_contest(service.url, SLUG, "Bench upload")
        served = data / "media" / "public" / "videos" / "bench-download.avi"
        served.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, served)
        workers = web_workers(service)
        originals = data / "media" / "originals" / "originals"
        for attempt in range(repeat):
            downloads.add(
                workers, lambda: download(service, "/media/videos/bench-download.avi", size)
            )
            api.add(workers, lambda n=attempt: api_upload(service, video, f"api{n}@example.com"))
            shutil.rmtree(originals)
            page.add(workers, lambda n=attempt: page_upload(service, video, f"page{n}@example.com"))
            shutil.rmtree(originals)
        leftovers = sorted(path.name for path in (data / "tmp").iterdir())
    finally:
        service.stop()

    mib = size / MiB
    print(f"file: {mib:.0f} MiB AVI (rawvideo {WIDTH}x{HEIGHT}), {repeat} run(s), medians")
    print(
        f"{'':26} {'seconds':>8} {'MiB/s':>7} {'after body':>10} {'web CPU':>8} {'growth MiB':>10}"
    )
    print(f"{'copy on disk (reference)':26} {copy_seconds:8.2f} {mib / copy_seconds:7.0f}")
    print(downloads.row("download (baseline)", mib))
    print(api.row("upload, API", mib))
    print(page.row("upload, page form", mib))
    for label, runs in (("API", api), ("page form", page)):
        print(f"upload rate / download rate, {label}: {downloads.seconds() / runs.seconds():.2f}")
    print("runs, s: download", " ".join(f"{t.seconds:.2f}" for t in downloads.timings))
    print("         API     ", " ".join(f"{t.seconds:.2f}" for t in api.timings))
    print("         page    ", " ".join(f"{t.seconds:.2f}" for t in page.timings))
    print(f"left in the upload folder: {leftovers or 'nothing'}")


if __name__ == "__main__":
    main()
