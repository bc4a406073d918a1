"""The real web and worker processes on each real broker: Redis, RabbitMQ, SQS (moto's server)."""

import time

import pytest
import requests
from kombu import Connection

from tests.e2e.service import Service, open_contest
from tests.media import make_clip, make_noisy_clip
from tests.queues import brokers

pytestmark = pytest.mark.e2e

# What settings.py derives from the default convert_timeout (1800 s): the task's hard limit
# (+240 s) and the broker's hold on a taken job (+60 s).
JOB_HOLD_SECONDS = 1800 + 240 + 60


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory):
    with brokers.redis_url() as url:
        service = Service(tmp_path_factory.mktemp("redis"), broker_url=url).start()
        yield service
        service.stop()


@pytest.fixture(scope="module")
def rabbitmq_service(tmp_path_factory):
    with brokers.rabbitmq_url() as url:
        service = Service(tmp_path_factory.mktemp("rabbitmq"), broker_url=url).start()
        yield service
        service.stop()


@pytest.fixture(scope="module")
def sqs_queue_url(moto_server):
    return brokers.sqs_queue(moto_server)


@pytest.fixture(scope="module")
def sqs_service(tmp_path_factory, moto_server, sqs_queue_url):
    folder = tmp_path_factory.mktemp("sqs")
    service = Service(folder, extra_env=moto_server.env(), sqs_url=sqs_queue_url).start()
    yield service
    service.stop()


ORGANIZERS: dict[str, requests.Session] = {}  # service URL -> Olga's API session


def organizer(service: Service) -> requests.Session:
    """Olga's API session, with an open contest "brokers"; made once a service."""
    if service.url not in ORGANIZERS:
        ORGANIZERS[service.url] = open_contest(service.url, "brokers", "Brokers")
    return ORGANIZERS[service.url]


def upload(service: Service, path, address: str) -> str:
    organizer(service)
    with open(path, "rb") as handle:
        response = requests.post(
            f"{service.url}/api/v1/contests/brokers/videos",
            data={"first_name": "Pat", "last_name": "Doe", "email": address, "message": "hi"},
            files={"file": (path.name, handle)},
            timeout=60,
        )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def status(service: Service, video_id: str) -> str:
    return organizer(service).get(f"{service.url}/api/v1/videos/{video_id}").json()["status"]


def one_email(service: Service, address: str):
    (message,) = service.wait_until(lambda: service.emails_to(address), 90, "the email")
    time.sleep(2)  # a second delivery of the job would send its email by now
    assert len(service.emails_to(address)) == 1
    return message


@pytest.mark.parametrize("broker", ["redis", "rabbitmq", "sqs"])
def test_an_upload_is_converted_and_one_email_arrives(broker, request, tmp_path):
    service = request.getfixturevalue(f"{broker}_service")
    video_id = upload(service, make_clip(tmp_path / "entry.flv"), f"{broker}@example.com")

    message = one_email(service, f"{broker}@example.com")
    assert "is ready" in message["Subject"]
    assert f"/videos/{video_id}/" in message.get_body(("plain",)).get_content()
    assert status(service, video_id) == "ready"


def test_the_sqs_queue_hides_a_taken_job_for_longer_than_a_job_may_run(
    sqs_service, moto_server, sqs_queue_url
):
    # The queue was made with SQS's default of 30 s; the worker raised it as it started.
    assert brokers.sqs_visibility_timeout(moto_server, sqs_queue_url) == JOB_HOLD_SECONDS


def test_rabbitmq_gives_the_job_of_a_killed_worker_to_the_next_one(rabbitmq_service, tmp_path):
    service = rabbitmq_service
    slow = make_noisy_clip(tmp_path / "slow.avi", seconds=6)
    video_id = upload(service, slow, "slow@example.com")
    service.wait_until(lambda: status(service, video_id) == "processing", 60, "the conversion")
    assert waiting_jobs(service) == 0  # the worker holds it, unacknowledged

    service.kill("worker")  # SIGKILL, ffmpeg and all: a machine lost mid-job
    # The connection dropped, so RabbitMQ put the job back in the queue at once.
    service.wait_until(lambda: waiting_jobs(service) >= 1, 10, "the job back in the queue")
    # The row's claim would stop a second worker until it expires; move the clock, not wait.
    service.manage("shell", "-c", (
        "from videos.models import Video; from django.utils import timezone; "
        f"Video.objects.filter(id='{video_id}').update(claimed_until=timezone.now())"
    ))  # fmt: skip
    service.start_worker("worker-2")

    service.wait_until(lambda: status(service, video_id) == "ready", 120, "the second worker")
    assert "is ready" in one_email(service, "slow@example.com")["Subject"]


def waiting_jobs(service: Service) -> int:
    """Jobs ready in the queue, not taken by a worker."""
    with Connection(service.env["VIDEOSHARE_BROKER_URL"]) as connection:
        return connection.default_channel.queue_declare("celery", passive=True).message_count
