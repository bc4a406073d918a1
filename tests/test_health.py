"""Health checks: /health for the load balancer, `manage.py worker_health` for workers."""

import json
import os
import subprocess
import sys

from tests.e2e.service import ROOT
from tests.servers import free_port


def run(data_dir, *command: str, env=None, **config: str) -> subprocess.CompletedProcess:
    """A fresh process with this configuration, as the instance would start."""
    env = {
        **os.environ,
        **(env or {}),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VIDEOSHARE_DATA_DIR": str(data_dir),
        **{f"VIDEOSHARE_{key.upper()}": value for key, value in config.items()},
    }
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def unreachable_database() -> dict[str, str]:
    """PostgreSQL at a port where nothing listens."""
    return {"db_engine": "postgresql", "rds_url": "127.0.0.1", "rds_port": str(free_port()),
            "rds_db": "videoshare", "rds_user": "videoshare"}  # fmt: skip


# ---------------------------------------------------------------- /health


def test_health_is_ok_when_the_database_answers(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_load_balancer_may_call_the_instance_at_its_private_ip(client, db):
    assert client.get("/health", HTTP_HOST="10.0.1.23:8080").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.1.23:8080").status_code == 400  # pages still check


def test_health_is_503_with_the_reason_when_the_database_is_unreachable(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "response = Client().get('/health'); "
        "print('ANSWER', response.status_code, response.content.decode())"
    )
    done = run(tmp_path, "-c", code, **unreachable_database())
    answer = next(line for line in done.stdout.splitlines() if line.startswith("ANSWER"))
    _, status, body = answer.split(" ", 2)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "reason": "database unreachable"}
    logged = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "health_failed" for line in logged), done.stdout


# ---------------------------------------------------------------- worker_health


def test_a_worker_with_its_database_and_the_folder_queue_is_healthy(tmp_path):
    done = run(tmp_path, "manage.py", "worker_health")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok: database, broker"


def test_a_broken_broker_url_makes_the_worker_unhealthy(tmp_path):
    done = run(
        tmp_path, "manage.py", "worker_health", broker_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    assert done.returncode == 1
    assert "broker unreachable" in done.stderr and "Connection refused" in done.stderr


def test_an_unreachable_database_makes_the_worker_unhealthy(tmp_path):
    done = run(tmp_path, "manage.py", "worker_health", **unreachable_database())
    assert done.returncode == 1
    assert "database unreachable" in done.stderr


def test_the_sqs_queue_must_exist(tmp_path, moto_server):
    import boto3

    sqs = boto3.client("sqs", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    queue_url = sqs.create_queue(QueueName="videoshare-health")["QueueUrl"]
    aws = moto_server.env()
    healthy = run(tmp_path, "manage.py", "worker_health", env=aws, sqs_url=queue_url)
    missing = run(tmp_path, "manage.py", "worker_health", env=aws, sqs_url=queue_url + "-gone")
    assert healthy.returncode == 0, healthy.stderr
    assert missing.returncode == 1
    assert "broker unreachable" in missing.stderr and "does not exist" in missing.stderr
