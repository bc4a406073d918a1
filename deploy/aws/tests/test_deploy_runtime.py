"""What runs inside AWS, run here for real: the image's entrypoint and requirements, the
worker's scale-in protection (against a stand-in for the ECS agent's endpoint), and the
migration step's verdict on a stopped task."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from config import loader
from tests.servers import free_port

pytestmark = pytest.mark.deploy

AWS_DIR = Path(__file__).resolve().parents[1]
ROOT = AWS_DIR.parents[1]
RUNTIME = AWS_DIR / "runtime"
DEADLINE = 60  # seconds: generous for a busy machine


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------- the image


def test_the_entrypoint_writes_config_conf_that_the_app_reads(tmp_path):
    conf = "\n".join(
        [
            "[SECRETS]",
            "name = videoshare/production/config",
            "region = us-east-1",
            "",
            "[VIDEOSHARE]",
            "worker_concurrency = 1",
        ]
    )
    answer = subprocess.run(
        [str(RUNTIME / "entrypoint.sh"), "sh", "-c", "echo started"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "CONFIG_CONF": conf},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == "started\n"  # then it ran the command
    values = loader.read_config_file(tmp_path / "config.conf")
    assert values["secret_name"] == "videoshare/production/config"
    assert values["secret_region"] == "us-east-1"
    assert values["worker_concurrency"] == "1"


def test_the_entrypoint_without_config_conf_only_runs_the_command(tmp_path):
    answer = subprocess.run(
        [str(RUNTIME / "entrypoint.sh"), "sh", "-c", "exit 7"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        timeout=DEADLINE,
    )
    assert answer.returncode == 7
    assert not (tmp_path / "config.conf").exists()


def test_the_image_installs_the_pinned_requirements_with_the_mysql_driver():
    answer = subprocess.run(
        [sys.executable, str(RUNTIME / "requirements.py"), str(ROOT / "pyproject.toml"), "mysql"],
        capture_output=True,
        text=True,
        check=True,
        timeout=DEADLINE,
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = answer.stdout.split("\n")[:-1]
    assert lines == project["dependencies"] + project["optional-dependencies"]["mysql"]
    assert all("==" in line for line in lines)  # pinned, as the product installs them


# ---------------------------------------------------------------- scale-in protection


class Agent:
    """A stand-in for the ECS agent's task-protection endpoint: records each PUT's body and
    answers as the agent does, refusing the first `refusals` requests."""

    def __init__(self, refusals: int = 0):
        self.bodies: list[dict] = []
        self.refusals = refusals
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                agent.bodies.append(body)
                if agent.refusals:
                    agent.refusals -= 1
                    answer = {"failure": {"Arn": "task", "Reason": "TASK_NOT_VALID"}}
                else:
                    answer = {"protection": {**body, "TaskArn": "arn:aws:ecs:task/1"}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/task"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def agent():
    started = Agent()
    yield started
    started.stop()


def start_worker(tmp_path: Path, agent_url: str | None, script: str) -> subprocess.Popen:
    """protected_worker.py with a stand-in worker: a Python script given the data folder."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "VIDEOSHARE_DATA_DIR": str(tmp_path / "data"),
    }
    if agent_url:
        env["ECS_AGENT_URI"] = agent_url
    command = [sys.executable, str(RUNTIME / "protected_worker.py"), "--poll-seconds", "0.1"]
    return subprocess.Popen(
        [*command, sys.executable, "-c", script, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# The stand-in worker converts one job: a scratch folder while "converting", removed at the end.
ONE_JOB = """
import pathlib, sys, time
here = pathlib.Path(sys.argv[1])
job = here / "data" / "scratch" / "6f1c-job"
deadline = time.monotonic() + 60

def wait(name):
    while not (here / name).exists() and time.monotonic() < deadline:
        time.sleep(0.02)

wait("start")
job.mkdir(parents=True)
wait("finish")
job.rmdir()
wait("exit")
sys.exit(3)
"""


def test_a_task_is_protected_while_it_converts_and_released_after(tmp_path, agent):
    worker = start_worker(tmp_path, agent.url, ONE_JOB)
    try:
        time.sleep(0.5)  # idle: nothing to protect, nothing sent
        assert agent.bodies == []
        (tmp_path / "start").touch()
        wait_for(lambda: agent.bodies, "protection on")
        # The longest job (convert_timeout 1800 + 240 s = 34 min) plus a minute.
        assert agent.bodies[0] == {"ProtectionEnabled": True, "ExpiresInMinutes": 35}
        (tmp_path / "finish").touch()
        wait_for(lambda: len(agent.bodies) == 2, "protection off")
        assert agent.bodies[1] == {"ProtectionEnabled": False}
        (tmp_path / "exit").touch()
        assert worker.wait(timeout=DEADLINE) == 3  # the worker's own status
    finally:
        worker.kill()
    assert len(agent.bodies) == 2  # once each way, not once a poll
    output = worker.stdout.read()
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [event["enabled"] for event in events if event.get("event") == "task_protection"] == [
        True,
        False,
    ]


def test_a_refused_protection_is_asked_again(tmp_path):
    agent = Agent(refusals=1)
    worker = start_worker(tmp_path, agent.url, ONE_JOB)
    try:
        (tmp_path / "start").touch()
        wait_for(lambda: len(agent.bodies) >= 2, "a second request")
        assert (
            agent.bodies[0]
            == agent.bodies[1]
            == {
                "ProtectionEnabled": True,
                "ExpiresInMinutes": 35,
            }
        )
        (tmp_path / "finish").touch()
        wait_for(lambda: agent.bodies[-1] == {"ProtectionEnabled": False}, "protection off")
        (tmp_path / "exit").touch()
        assert worker.wait(timeout=DEADLINE) == 3
    finally:
        worker.kill()
        agent.stop()
    assert "task_protection_failed" in worker.stdout.read()


STOPS_ON_SIGTERM = """
import pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])

def stop(number, frame):
    (here / "stopped").write_text(str(number))
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
(here / "ready").touch()
time.sleep(60)
sys.exit(1)
"""


def test_sigterm_reaches_the_worker(tmp_path, agent):
    worker = start_worker(tmp_path, agent.url, STOPS_ON_SIGTERM)
    try:
        wait_for((tmp_path / "ready").exists, "the worker to start")
        worker.send_signal(signal.SIGTERM)  # what ECS sends to stop a task
        assert worker.wait(timeout=DEADLINE) == 0
    finally:
        worker.kill()
    assert (tmp_path / "stopped").read_text() == str(int(signal.SIGTERM))


def test_outside_ecs_it_only_runs_the_worker(tmp_path):
    worker = start_worker(tmp_path, None, "import sys; sys.exit(5)")
    assert worker.wait(timeout=DEADLINE) == 5
    assert "without scale-in protection" in worker.stdout.read()


def test_only_a_recent_job_folder_counts_as_converting(tmp_path):
    protected_worker = load(RUNTIME / "protected_worker.py")
    scratch = tmp_path / "scratch"
    assert not protected_worker.converting(scratch, max_age=2040, now=time.time())  # no folder
    scratch.mkdir()
    (scratch / "stray-file").touch()
    assert not protected_worker.converting(scratch, max_age=2040, now=time.time())
    leftover = scratch / "crashed-job"
    leftover.mkdir()
    old = time.time() - 3 * 3600
    os.utime(leftover, (old, old))  # a crash's leftover, older than any job may run
    assert not protected_worker.converting(scratch, max_age=2040, now=time.time())
    (scratch / "running-job").mkdir()
    assert protected_worker.converting(scratch, max_age=2040, now=time.time())


# ---------------------------------------------------------------- the migration step


def stopped(code, reason=None) -> dict:
    container = {"name": "migrate", "lastStatus": "STOPPED"}
    if code is not None:
        container["exitCode"] = code
    if reason:
        container["reason"] = reason
    return {
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/videoshare/abc",
        "lastStatus": "STOPPED",
        "stoppedReason": "Essential container in task exited",
        "containers": [container],
    }


def test_the_migration_step_waits_for_the_task_and_reads_its_exit_code():
    handler = load(AWS_DIR / "migration" / "handler.py")
    running = {"lastStatus": "RUNNING", "containers": [{"name": "migrate"}]}
    assert handler.task_finished(running, container="migrate") is False
    assert handler.task_finished({"lastStatus": "PROVISIONING"}, container="migrate") is False
    assert handler.task_finished(stopped(0), container="migrate") is True


@pytest.mark.parametrize(
    ("task", "says"),
    [
        (stopped(1), "exit code 1"),
        (stopped(None, "CannotPullContainerError: image not found"), "CannotPullContainerError"),
    ],
)
def test_a_failed_migration_fails_the_deploy_saying_why(task, says):
    handler = load(AWS_DIR / "migration" / "handler.py")
    with pytest.raises(RuntimeError, match=says) as failure:
        handler.task_finished(task, container="migrate")
    assert "task/videoshare/abc" in str(failure.value)  # where its log is
