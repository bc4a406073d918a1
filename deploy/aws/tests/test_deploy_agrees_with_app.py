"""The deployment's numbers and names are the app's own: its settings are loaded here as a
process on AWS would load them, and compared."""

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from videoshare_deploy.layout import ALL_PREFIXES, ORIGINALS_PREFIX, PUBLIC_PREFIXES
from videoshare_deploy.settings import from_values

from config import loader
from contests.models import Contest, banner_path
from videos.models import Video
from videos.services import original_key

pytestmark = pytest.mark.deploy

AWS_DIR = Path(__file__).resolve().parents[1]
ROOT = AWS_DIR.parents[1]

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "job_max_seconds": settings.JOB_MAX_SECONDS,
    "visibility_timeout": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "scratch": str(settings.SCRATCH_DIR),
}))
"""


def app_settings(environ: dict) -> dict:
    """config.settings as a worker on AWS loads it (SQS, convert_timeout from its keys)."""
    answer = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def test_the_queue_and_the_protection_follow_the_apps_time_limits(tmp_path):
    keys = {
        "VIDEOSHARE_DATA_DIR": str(tmp_path),
        "VIDEOSHARE_CONVERT_TIMEOUT": "3600",
        "VIDEOSHARE_SQS_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/videoshare",
    }
    app = app_settings(keys)
    deploy = from_values({"sender_email": "a@example.org", "convert_timeout": "3600"})
    assert deploy.job_max_seconds == app["job_max_seconds"]
    assert deploy.queue_visibility_seconds == app["visibility_timeout"]

    spec = importlib.util.spec_from_file_location("pw", AWS_DIR / "runtime" / "protected_worker.py")
    protected_worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(protected_worker)
    values = loader.load(environ=keys)
    assert str(protected_worker.scratch_folder(values)) == app["scratch"]
    assert protected_worker.job_max_seconds(values) == app["job_max_seconds"]


def test_the_bucket_prefixes_are_the_ones_the_app_writes():
    video = Video(id=uuid.uuid4(), original_name="holiday.AVI")
    assert original_key(video).startswith(ORIGINALS_PREFIX)
    assert banner_path(Contest(slug="summer"), "banner.png").startswith(PUBLIC_PREFIXES)
    assert set(ALL_PREFIXES) == {
        "originals/",
        "videos/",
        "posters/",
        "banners/",
        "entries/",
        "hidden/",
    }
