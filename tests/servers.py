"""Real servers for the tests: the ones this machine runs, and a local AWS (moto's server).

A test that needs a server it cannot reach skips with the reason on a developer's machine, and
fails in CI (CI=true), where every server must be there.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

# name -> (host, port) of the servers CI runs on this machine
SERVERS = {
    "postgresql": ("127.0.0.1", 5432),
    "mariadb": ("127.0.0.1", 3306),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str) -> tuple[str, int]:
    host, port = SERVERS[name]
    if not reachable(host, port):
        unavailable(f"{name} is not answering on {host}:{port}")
    return host, port


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run every test")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's standalone server: speaks S3, SQS, SES and Secrets Manager over HTTP."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "MotoServer":
        moto = BIN / "moto_server"
        if not moto.exists():
            unavailable("moto_server is not installed (pip install 'moto[server]')")
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)

    def env(self) -> dict[str, str]:
        """What boto3 (ours, django-storages', anymail's, kombu's) needs to talk to it."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
