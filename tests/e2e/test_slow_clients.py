"""The web server against slow, oversized and disguised clients (config/asgi.py,
gunicorn.conf.py): slow uploads cannot stop the site.

The end-to-end tests run the real web process (no worker: no upload here ever completes).
The in-process ones drive the same ASGI application with Django's settings of the test run.
"""

import asyncio
import json
import resource
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from config import loader
from tests.e2e.service import Service, open_contest

SLOW_CLIENTS = 100
# The requirement: while they trickle, /health and contest pages answer in under 1 s, each
# request timed on its own. A page takes some 10 ms here; the rest is room for a busy machine.
ANSWER_WITHIN_SECONDS = 1.0
TRICKLE_SECONDS = 10
DECLARED_BYTES = 100 * 1024 * 1024  # what each slow client says it will send


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The web process alone, started with a low soft limit on open files, as many systems
    give a process (1024 or less); an open contest."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))  # inherited by the child
    try:
        service = Service(tmp_path_factory.mktemp("slow-clients")).start(worker=False)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        open_contest(service.url, "slow-cup", "Slow cup")
        yield service
    finally:
        service.stop()


def upload_head(port: int, path: str, length: int, *extra: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: multipart/form-data; boundary=slowslowslow",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_of(sock: socket.socket, seconds: float = 10) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(seconds)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status = requests.get(url, timeout=5).status_code
    except requests.RequestException:
        status = 0
    return status, time.monotonic() - started


@pytest.mark.e2e
def test_a_hundred_slow_uploads_leave_health_and_pages_fast(site):
    port = site.port
    clients = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(upload_head(port, "/api/v1/contests/slow-cup/videos", DECLARED_BYTES))
        sock.sendall(b"--slowslowslow\r\n")
        clients.append(sock)

    stop = threading.Event()

    def trickle():  # a few bytes a second on every connection
        while not stop.wait(0.5):
            for sock in clients:
                sock.sendall(b"x")

    trickler = threading.Thread(target=trickle)
    trickler.start()
    timings: list[tuple[str, int, float]] = []
    try:
        deadline = time.monotonic() + TRICKLE_SECONDS
        while time.monotonic() < deadline:
            for path in ("/health", "/slow-cup/"):
                timings.append((path, *timed_get(site.url + path)))
            time.sleep(0.1)
        # Every slow client is still connected, its upload unanswered: the server waits for it.
        for sock in clients:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        stop.set()
        trickler.join()
        for sock in clients:
            sock.close()

    slowest = max(seconds for _, _, seconds in timings)
    print(f"\n{len(timings)} requests during {SLOW_CLIENTS} slow uploads, slowest {slowest:.3f} s")
    assert len(timings) >= 20
    assert [(path, status) for path, status, _ in timings if status != 200] == []
    assert slowest < ANSWER_WITHIN_SECONDS, timings
    # They are gone: the site serves as before.
    assert timed_get(site.url + "/slow-cup/")[0] == 200


@pytest.mark.e2e
@pytest.mark.parametrize(
    "path, content_type", [("/api/v1/contests/slow-cup/videos", "json"), ("/slow-cup/", "text")]
)
def test_a_too_large_upload_is_refused_before_its_body_is_sent(site, path, content_type):
    limit_mb = loader.as_int(loader.load(site.env), "max_upload_mb")
    too_large = (limit_mb + 2) * 1024 * 1024
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
        # As curl asks for a large body: the answer comes instead of "100 Continue".
        sock.sendall(upload_head(site.port, path, too_large, "Expect: 100-continue"))
        answer = answer_of(sock)  # no byte of the body sent; the server closes
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer
    message = f"The file is larger than {limit_mb} MB."
    if content_type == "json":
        assert json.loads(body)["detail"] == message
    else:
        assert body.decode() == message


@pytest.mark.e2e
def test_the_web_process_may_open_as_many_files_as_the_system_allows(site):
    master = site.processes["web"].pid
    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(workers) == 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for pid in workers:
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        (line,) = [line for line in limits if line.startswith("Max open files")]
        assert line.split()[3:5] == [str(hard), str(hard)]  # the site started with 256


@pytest.mark.e2e
def test_a_process_answers_503_past_its_connection_cap_then_recovers(tmp_path):
    capped = {"GUNICORN_CMD_ARGS": "--worker-connections 20"}  # 1000 by default
    service = Service(tmp_path, extra_env=capped, web_workers="1").start(worker=False)
    try:
        clients = []
        for _ in range(19):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
            sock.sendall(upload_head(service.port, "/slow/", DECLARED_BYTES))
            clients.append(sock)
        time.sleep(0.5)  # all 19 accepted by now
        started = time.monotonic()
        refused = requests.get(service.url + "/health", timeout=5)
        assert (refused.status_code, refused.text) == (503, "Service Unavailable")
        assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
        for sock in clients:
            sock.close()
        service.wait_until(service.healthy, 10, "the process to serve again")
    finally:
        service.stop()


@pytest.mark.e2e
def test_a_stopping_process_lets_the_upload_it_is_receiving_finish(tmp_path):
    service = Service(tmp_path).start(worker=False)
    try:
        web = service.processes["web"]
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(upload_head(service.port, "/health", 2000) + b"x" * 1000)
            time.sleep(0.5)
            web.terminate()  # as an operator or a deployment stops it
            time.sleep(2)
            sock.sendall(b"x" * 1000)  # the rest of the body, after the signal
            answer = answer_of(sock)
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        assert b'{"status": "ok"}' in answer
        assert web.wait(timeout=20) == 0  # then it stops, without waiting for its deadline
    finally:
        service.stop()


@pytest.mark.e2e
def test_an_upload_that_outlasts_the_drain_time_does_not_hold_the_stop(tmp_path):
    service = Service(tmp_path, web_drain_seconds="3").start(worker=False)
    try:
        web = service.processes["web"]
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(upload_head(service.port, "/health", 2000) + b"x" * 10)
            time.sleep(0.5)
            stopping = time.monotonic()
            web.terminate()
            web.wait(timeout=30)  # the rest of the body never comes
            # web_drain_seconds bounds the stop (plus the process's own shutdown).
            assert time.monotonic() - stopping < 15
    finally:
        service.stop()


def client_address_logged(site, peer: str, forwarded_for: str) -> str:
    """The client address the app saw (the access log's) for a request from `peer`."""
    probe = f"/health?probe={time.monotonic_ns()}"
    with socket.create_connection(("127.0.0.1", site.port), 10, (peer, 0)) as sock:
        sock.sendall(
            f"GET {probe} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"X-Forwarded-For: {forwarded_for}\r\n\r\n".encode()
        )
        assert answer_of(sock).startswith(b"HTTP/1.1 200 ")
    log = (site.logs / "web.log").read_text().splitlines()
    (line,) = [json.loads(line) for line in log if f'"GET {probe} ' in line]
    return line["message"].split(" ", 1)[0].rsplit(":", 1)[0]


@pytest.mark.e2e
def test_the_client_address_is_forwarded_only_by_a_trusted_proxy(site):
    # 127.0.0.1 is the trusted proxy by default (forwarded_allow_ips); its client's address
    # is the last one it appended.
    assert client_address_logged(site, "127.0.0.1", "198.51.100.7") == "198.51.100.7"
    assert client_address_logged(site, "127.0.0.1", "10.6.6.6, 198.51.100.7") == "198.51.100.7"
    # Anyone else naming an address of their choice is still themselves.
    assert client_address_logged(site, "127.0.0.2", "198.51.100.7") == "127.0.0.2"


# ---------------------------------------------------------------- in process


def run_asgi(app, path: str, headers: list[tuple[bytes, bytes]], body_parts) -> dict:
    """One request through the ASGI app; what it sent back and how much of the body it read."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    result = {"status": None, "headers": {}, "body": b"", "parts_read": 0}

    async def main():
        parts = iter(body_parts)
        answered = asyncio.Event()

        async def receive():
            part = next(parts, None)
            if part is None:  # the body is over, or the client stays silent: wait
                await answered.wait()
                return {"type": "http.disconnect"}
            result["parts_read"] += 1
            return {"type": "http.request", "body": part, "more_body": True}

        async def send(message):
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
                result["headers"] = dict(message["headers"])
            else:
                result["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    answered.set()

        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(main())
    return result


def endless(part: bytes):
    while True:
        yield part


def test_a_chunked_upload_is_stopped_once_it_passes_the_limit(settings):
    from config.asgi import application

    settings.MAX_UPLOAD_BYTES = 1024 * 1024  # refused past 2 MiB: 32 parts of 64 KiB
    chunked = [(b"transfer-encoding", b"chunked"), (b"accept-language", b"es")]
    answer = run_asgi(application, "/api/v1/contests/x/videos", chunked, endless(b"x" * 65536))
    assert answer["status"] == 413
    assert answer["headers"][b"connection"] == b"close"
    assert json.loads(answer["body"])["detail"] == "El archivo pesa más de 1 MB."
    assert answer["parts_read"] == 33  # not one part more


def test_an_upload_that_stops_arriving_is_dropped():
    from config.asgi import Handler, UploadGuard
    from videos import services

    guard = UploadGuard(
        Handler(),
        too_large=services.upload_too_large,
        message=services.too_large_message,
        idle_seconds=0.5,
    )
    answer = run_asgi(guard, "/slow-cup/", [(b"content-length", b"1000")], [b"a few bytes"])
    assert answer["status"] == 408
    assert answer["body"] == b"Request timed out."
