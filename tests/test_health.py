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
    assert done.stdout.splitlines()[-1] == "ok: database, broker, disk"


def test_worker_health_shows_what_waits_on_our_side(tmp_path):
    assert run(tmp_path, "manage.py", "migrate", "-v0").returncode == 0
    waiting = (
        "from contests.models import Contest; from videos.models import Video;"
        "from accounts.models import User;"
        "o = User.objects.create(email='o@example.com');"
        "c = Contest.objects.create(owner=o, name='C', slug='c',"
        " starts_at='2026-01-01T00:00Z', ends_at='2030-01-01T00:00Z');"
        "Video.objects.create(contest=c, first_name='A', last_name='B', email='a@example.com',"
        " original='originals/x.avi', last_error='[Errno 28] No space left on device');"
        "Video.objects.create(contest=c, first_name='A', last_name='B', email='b@example.com',"
        " original='originals/y.avi', status='ready', notify_last_error='421 try later')"
    )
    assert run(tmp_path, "manage.py", "shell", "-c", waiting).returncode == 0
    done = run(tmp_path, "manage.py", "worker_health")
    assert done.returncode == 0, done.stderr  # the cluster's backlog, not this machine's health
    assert "queued 1" in done.stdout and "waiting_on_our_side 1" in done.stdout
    assert "emails_waiting_on_mail 1" in done.stdout
    assert "conversion: [Errno 28] No space left on device" in done.stdout
    assert "email: 421 try later" in done.stdout


def test_a_scratch_disk_without_room_for_a_conversion_makes_the_worker_unhealthy(tmp_path):
    done = run(tmp_path, "manage.py", "worker_health", max_upload_mb=str(2**40))
    assert done.returncode == 1
    assert "disk almost full" in done.stderr


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
