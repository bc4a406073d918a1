"""Servers the fault tests own, so they can stop and start them without touching the machine's.

Other tests and CI use the shared PostgreSQL and Redis: these are separate processes on free
ports, in folders of their own, thrown away at the end.
"""

import asyncio
import contextlib
import email
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.servers import free_port, unavailable

READY_SECONDS = 60  # a busy 2-core machine may take a while to start a server


def _wait_ready(ready, process: subprocess.Popen | None, what: str, log: Path | None) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {READY_SECONDS} s: {_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path | None, lines: int = 20) -> str:
    if log is None or not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class ScratchRedis:
    """A Redis server of the test's own: no snapshot, no append-only file, so a stop loses
    everything it held, as a crashed broker without persistence does."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = Path(tempfile.mkdtemp(prefix="scratch-redis-"))
        self.log = self.folder / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ScratchRedis":
        binary = shutil.which("redis-server")
        if not binary:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_ready(self.answers, self.process, "redis-server", self.log)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def answers(self) -> bool:
        """True when the server answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class ScratchRabbitMQ:
    """A RabbitMQ node of the test's own, beside the machine's, on free ports and without
    plugins. Its queues and persistent messages are kept in its folder across a stop, as a
    real broker keeps them on disk. As root the server runs as the rabbitmq user, so the
    folder is that user's."""

    def __init__(self):
        self.port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.node = f"videoshare{self.port}@localhost"
        self.folder = Path(tempfile.mkdtemp(prefix="scratch-rabbitmq-"))
        self.log = self.folder / "server.log"
        self.process: subprocess.Popen | None = None
        (self.folder / "plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(self.folder / "server.pid"),
        }

    def start(self) -> "ScratchRabbitMQ":
        binary = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
        if not Path(binary).exists():
            unavailable("rabbitmq-server is not installed (apt-get install rabbitmq-server)")
        if os.geteuid() != 0:
            unavailable("a test's own RabbitMQ node runs as the rabbitmq user: run as root")
        shutil.chown(self.folder, "rabbitmq")
        for path in self.folder.rglob("*"):
            shutil.chown(path, "rabbitmq")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [binary], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        _wait_ready(self.answers, self.process, "rabbitmq-server", self.log)
        return self

    def stop(self) -> None:
        """rabbitmqctl stop: the node halts, as an operator's restart does."""
        if self.process is None:
            return
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, "stop"],
            env=self.env, capture_output=True, timeout=60,
        )  # fmt: skip
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def answers(self) -> bool:
        """True when an AMQP client can connect (the port opens before the broker is ready)."""
        import kombu

        try:
            with kombu.Connection(self.url, connect_timeout=2) as connection:
                connection.connect()
                return connection.connected
        except Exception:
            return False


def find_initdb() -> Path | None:
    """The newest PostgreSQL's initdb on this machine (Debian keeps it off PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    if found:
        return Path(found[-1])
    on_path = shutil.which("initdb")
    return Path(on_path) if on_path else None


class ScratchPostgres:
    """A throwaway PostgreSQL cluster (trust auth, user postgres) on a free port.

    As root, initdb and postgres refuse to run: they run as the postgres user, in a folder it
    owns. fsync is off: a clean stop still writes everything, and only a machine crash could
    lose data, which no test here makes.
    """

    def __init__(self):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.user = "postgres"
        initdb = find_initdb()
        self.bin = initdb.parent if initdb else None
        self.folder = Path(tempfile.mkdtemp(prefix="scratch-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0 and self.bin is not None:
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")

    def keys(self) -> dict[str, str]:
        """VideoShare's keys for this server; Service makes a fresh database on it."""
        return {
            "db_engine": "postgresql",
            "rds_url": self.host,
            "rds_port": str(self.port),
            "rds_user": self.user,
            "rds_db": "postgres",
        }

    def start(self) -> "ScratchPostgres":
        if self.bin is None:
            unavailable("PostgreSQL's initdb is not installed (apt-get install postgresql)")
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={self.host} "
            "-c fsync=off -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(READY_SECONDS), "start")  # fmt: skip
        _wait_ready(self.answers, None, "postgres", self.log)
        return self

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as an operator's restart or a failover does."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w",
                      "-t", str(READY_SECONDS), "stop")  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, RuntimeError):
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host=self.host, port=self.port, user=self.user, dbname="postgres", connect_timeout=2
            ) as connection:
                return connection.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, str(self.bin / program), *args],
            cwd=self.folder, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout} {_tail(self.log)}")


class StallingSMTP:
    """A real SMTP server (aiosmtpd) that keeps every message it accepts.

    hold_next(seconds) makes it sit on the next message's DATA for that long before answering,
    the moment a sender is most exposed: the message is on the wire, the answer not yet back. If
    the sender goes away meanwhile, the message is not accepted (as RFC 5321 servers do: no
    250, no responsibility), and counted in `abandoned`.
    """

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.received: list[tuple[float, email.message.EmailMessage]] = []  # (monotonic, message)
        self.abandoned = 0
        self.holding = threading.Event()
        self._hold: tuple[float, str | None] | None = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> "StallingSMTP":
        """Start (or start again, on the same port: a mail server back from an outage)."""
        self._controller = Controller(
            self, hostname=self.host, port=self.port, ready_timeout=READY_SECONDS
        )
        self._controller.start()  # returns once the server has answered a connection
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keys(self) -> dict[str, str]:
        return {"smtp_host": self.host, "smtp_port": str(self.port), "smtp_tls": "false"}

    def hold_next(self, seconds: float, to: str | None = None) -> None:
        """The next message (to `to`, if given) waits `seconds` before its DATA is answered."""
        with self._lock:
            self._hold = (seconds, to)
            self.holding.clear()

    def wait_holding(self, seconds: float) -> None:
        if not self.holding.wait(seconds):
            raise AssertionError(f"no message reached DATA within {seconds} s")

    def messages_to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [message for _, message in self.received if message["To"] == address]

    def arrivals_to(self, address: str) -> list[float]:
        """When each message to `address` was accepted (time.monotonic())."""
        with self._lock:
            return [at for at, message in self.received if message["To"] == address]

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            hold = self._hold
            if hold and (hold[1] is None or hold[1] in envelope.rcpt_tos):
                self._hold = None
            else:
                hold = None
        if hold:
            self.holding.set()
            try:
                await asyncio.sleep(hold[0])
            except asyncio.CancelledError:  # the sender hung up while we held its message
                with self._lock:
                    self.abandoned += 1
                raise
            if server.transport is None or server.transport.is_closing():
                with self._lock:
                    self.abandoned += 1
                return "421 sender gone"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append((time.monotonic(), message))
        return "250 OK"
