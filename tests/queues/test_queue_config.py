"""Which broker the configuration names, and how long it holds a taken job."""

import pytest

from config import loader, queue
from config.loader import ConfigError

SQS_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/videoshare"


def broker(tmp_path, **keys):
    config = {**loader.load(environ={}, config_file=None), **keys}
    return queue.broker(config, tmp_path, visibility_timeout=2160)


def test_the_seeds_sqs_url_is_the_one_queue_in_its_own_region(tmp_path):
    url, options = broker(tmp_path, sqs_url=SQS_URL)
    assert url == "sqs://"  # credentials and endpoint: boto3's (instance role, AWS_* variables)
    assert options["predefined_queues"] == {"celery": {"url": SQS_URL}}
    assert options["region"] == "eu-west-1"
    assert options["visibility_timeout"] == 2160


def test_a_local_sqs_endpoint_leaves_the_region_to_boto3(tmp_path):
    _, options = broker(tmp_path, sqs_url="http://127.0.0.1:5000/123456789012/videoshare")
    assert "region" not in options


def test_redis_holds_a_taken_job_longer_than_a_job_may_run(tmp_path):
    assert broker(tmp_path, broker_url="redis://cache:6379/0") == (
        "redis://cache:6379/0", {"visibility_timeout": 2160}
    )  # fmt: skip


def test_without_a_broker_the_queue_is_a_folder(tmp_path):
    url, options = broker(tmp_path)
    assert url.startswith("filesystem://")
    assert options["data_folder_in"] == str(tmp_path / "queue" / "messages")


@pytest.mark.parametrize(
    "keys, complaint",
    [
        ({"sqs_url": SQS_URL, "broker_url": "redis://cache"}, "not both"),
        ({"broker_url": "sqs://"}, "set sqs_url"),
        ({"sqs_url": "videoshare"}, "must be a queue URL"),
    ],
)
def test_it_refuses_a_broker_it_cannot_use(tmp_path, keys, complaint):
    with pytest.raises(ConfigError, match=complaint):
        broker(tmp_path, **keys)


def test_sqs_cannot_hide_a_job_for_more_than_12_hours(tmp_path):
    config = {**loader.load(environ={}, config_file=None), "sqs_url": SQS_URL}
    with pytest.raises(ConfigError, match="convert_timeout is too long for SQS"):
        queue.broker(config, tmp_path, visibility_timeout=13 * 3600)


def test_rabbitmq_lets_a_worker_hold_a_job_as_long(tmp_path):
    (celery,) = queue.task_queues(ack_timeout=2160)
    assert celery.name == "celery" and celery.routing_key == "celery"
    assert celery.consumer_arguments == {"x-consumer-timeout": 2160 * 1000}
