"""Run the worker in an ECS task, and keep the task from being stopped while it converts.

Scaling in stops worker tasks, and so does a deployment; Fargate kills a container two minutes
after asking it to stop, and a conversion may take up to convert_timeout. ECS leaves alone a
task that has asked for scale-in protection (the ECS agent's endpoint, ECS_AGENT_URI): this
process turns the protection on while a conversion runs in the task and off when none does,
renewing it before it lapses. Protection always has an expiry, so a task whose process hung
cannot hold it for longer than a job may run.

A conversion runs in a folder of its own under <data_dir>/scratch, made when the job starts and
removed when it ends (videos.services). A scratch folder younger than the longest a job may run
is work in progress; older ones are a crash's leftovers (the worker removes them as it starts)
and do not count.

    python deploy/aws/runtime/protected_worker.py celery -A config worker --loglevel INFO

Outside ECS (no ECS_AGENT_URI) it only runs the command. It exits with the command's status.
"""

import argparse
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from config import loader
from config.logs import JsonFormatter

logger = logging.getLogger("videoshare.task_protection")

# How the app bounds a job: JOB_MAX_SECONDS = convert_timeout + 240 (config/settings.py).
JOB_EXTRA_SECONDS = 240
PROTECTION_PATH = "/task-protection/v1/state"


def job_max_seconds(values: dict[str, str]) -> int:
    return loader.as_int(values, "convert_timeout") + JOB_EXTRA_SECONDS


def scratch_folder(values: dict[str, str]) -> Path:
    """Where jobs keep their files: the app's SCRATCH_DIR (config/settings.py)."""
    return Path(values["data_dir"]).resolve() / "scratch"


def converting(scratch: Path, *, max_age: float, now: float) -> bool:
    """True when a job's scratch folder younger than max_age seconds is in `scratch`."""
    try:
        entries = list(scratch.iterdir())
    except FileNotFoundError:
        return False
    for entry in entries:
        try:
            if entry.is_dir() and now - entry.stat().st_mtime < max_age:
                return True
        except FileNotFoundError:
            continue  # removed meanwhile: that job just ended
    return False


class ProtectionError(Exception):
    pass


class Protection:
    """The task's scale-in protection, set through the ECS agent's endpoint."""

    def __init__(self, agent_uri: str, *, minutes: int):
        self.url = agent_uri.rstrip("/") + PROTECTION_PATH
        self.minutes = minutes
        self.enabled = False
        self.renew_at = 0.0

    def update(self, *, busy: bool, now: float) -> None:
        """Protect while busy (renewed at half its life), release when idle. A failed call
        changes nothing here, so the next update tries again."""
        if busy and (not self.enabled or now >= self.renew_at):
            self._put(True)
            self.enabled, self.renew_at = True, now + self.minutes * 60 / 2
        elif not busy and self.enabled:
            self._put(False)
            self.enabled = False

    def _put(self, enabled: bool) -> None:
        body = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self.minutes
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            payload = json.load(answer)
        problem = payload.get("failure") or payload.get("error")
        if problem or "protection" not in payload:
            raise ProtectionError(f"the ECS agent refused: {problem or payload}")
        logger.info(
            "scale-in protection %s",
            "on" if enabled else "off",
            extra={"event": "task_protection", "enabled": enabled, "minutes": self.minutes},
        )


def run(command: list[str], *, poll_seconds: float) -> int:
    values = loader.load()
    scratch = scratch_folder(values)
    max_age = job_max_seconds(values)
    agent = os.environ.get("ECS_AGENT_URI")
    # A protection outlives the longest job by a minute; it is renewed long before that.
    protection = Protection(agent, minutes=math.ceil(max_age / 60) + 1) if agent else None
    if protection is None:
        logger.warning("no ECS_AGENT_URI: running without scale-in protection")

    child = subprocess.Popen(command)
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, lambda number, frame: child.send_signal(number))
    while True:
        try:
            code = child.wait(timeout=poll_seconds)
            break
        except subprocess.TimeoutExpired:
            pass
        if protection is None:
            continue
        try:
            protection.update(
                busy=converting(scratch, max_age=max_age, now=time.time()), now=time.time()
            )
        except (OSError, ValueError, ProtectionError) as error:
            logger.error(
                "scale-in protection not updated: %s",
                error,
                extra={"event": "task_protection_failed", "error": str(error)},
            )
    return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="how often to look")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the worker's command")
    arguments = parser.parse_args(argv)
    if not arguments.command:
        parser.error("give the worker's command")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return run(arguments.command, poll_seconds=arguments.poll_seconds)
    except loader.ConfigError as error:
        logger.error("configuration: %s", error, extra={"event": "config_error"})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
