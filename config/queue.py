"""Celery's broker: a folder queue in the data folder (embedded), or the configured server.

- sqs_url (the seed's key): that one SQS queue, which must exist; nothing else is created.
- broker_url: a Redis (redis://) or RabbitMQ (amqp://) server.
"""

import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

from kombu import Exchange, Queue

from config.loader import ConfigError

logger = logging.getLogger(__name__)

# Celery's default queue. With SQS it is only the local name of the configured queue.
QUEUE = "celery"
SQS_MAX_VISIBILITY = 12 * 3600  # seconds; SQS refuses a longer visibility timeout
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")  # us-east-1, eu-central-1, us-gov-west-1
EXAMPLE_SQS_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/videoshare"
FOLDER_TRANSPORT = "config.folder_broker:Transport"


def broker(config: dict[str, str], data_dir: Path, *, visibility_timeout: int) -> tuple[str, dict]:
    """The broker URL and its transport options.

    visibility_timeout: seconds a taken, unacknowledged job stays invisible before the broker
    hands it to another worker (SQS, Redis); longer than a job may run.
    """
    url = config["broker_url"]
    if config["sqs_url"]:
        if url:
            raise ConfigError("set sqs_url or broker_url, not both")
        return "sqs://", sqs_options(config["sqs_url"], visibility_timeout)
    if url.startswith("sqs://"):
        raise ConfigError("for SQS set sqs_url to the queue's URL instead of broker_url")
    if not url or url.startswith("filesystem://"):
        folder = data_dir / "queue"
        for sub in ("messages", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return url or "filesystem://localhost/", {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.05,  # seconds between looks at the folder (bench/remux.py)
        }
    # Redis puts a taken job back after visibility_timeout; RabbitMQ ignores the option.
    return url, {"visibility_timeout": visibility_timeout}


def transport(url: str) -> str | None:
    """The folder queue's transport, which shows a message only once it is written whole;
    None for a server, whose transport the URL names."""
    return FOLDER_TRANSPORT if url.startswith("filesystem://") else None


def sqs_options(queue_url: str, visibility_timeout: int) -> dict:
    """kombu's SQS transport on one existing queue; credentials and endpoint come from boto3.

    boto3 finds the credentials the standard way (instance role, AWS_* variables) and honours
    AWS_ENDPOINT_URL, which points the tests at a local moto server.
    """
    parts = urlsplit(queue_url)
    if parts.scheme not in ("http", "https") or parts.path.count("/") != 2:
        raise ConfigError(f"sqs_url must be a queue URL like {EXAMPLE_SQS_URL}, got {queue_url!r}")
    if visibility_timeout > SQS_MAX_VISIBILITY:
        raise ConfigError(
            f"convert_timeout is too long for SQS: a job would need a visibility timeout of "
            f"{visibility_timeout} s, and SQS allows {SQS_MAX_VISIBILITY} s"
        )
    options = {
        "predefined_queues": {QUEUE: {"url": queue_url}},
        # kombu applies this only to queues it creates; sqs_visibility_ensure() applies it to ours.
        "visibility_timeout": visibility_timeout,
    }
    region = next((part for part in parts.hostname.split(".") if REGION.match(part)), None)
    if region:  # else boto3's own (AWS_DEFAULT_REGION), as for a local endpoint
        options["region"] = region
    return options


def task_queues(*, ack_timeout: int) -> list[Queue]:
    """Celery's one queue, as Celery would declare it, plus how long a worker may hold a job.

    RabbitMQ closes the channel of a consumer that keeps a job unacknowledged for longer than
    its consumer_timeout (30 min by default), and a conversion may run longer: the worker then
    finishes its running jobs and exits ("Unrecoverable error: PreconditionFailed"). RabbitMQ
    3.12 and later take a longer timeout per consumer (milliseconds); older ones, like Debian
    12's 3.10, only from rabbitmq.conf (consumer_timeout). Other brokers ignore the argument.
    """
    return [
        Queue(
            QUEUE,
            Exchange(QUEUE),
            routing_key=QUEUE,
            consumer_arguments={"x-consumer-timeout": ack_timeout * 1000},
        )
    ]


def sqs_visibility_ensure(broker_url: str, options: dict) -> None:
    """Make the SQS queue hide a taken job for as long as a job may run; called as a worker starts.

    The queue exists already, so its own VisibilityTimeout decides when SQS hands a taken job to
    another worker (the seed's guide suggests "more than a couple of minutes"). A shorter one
    than a job's run would deliver a running conversion again. Raised, never lowered.
    """
    if not broker_url.startswith("sqs://"):
        return
    from botocore.exceptions import BotoCoreError, ClientError

    from config import aws

    url = options["predefined_queues"][QUEUE]["url"]
    region = options.get("region")
    needed = options["visibility_timeout"]
    try:
        current = aws.sqs_visibility_timeout(url, region)
        if current < needed:
            aws.sqs_set_visibility_timeout(url, region, needed)
            logger.warning("visibility timeout of %s raised from %s to %s s", url, current, needed)
    except (BotoCoreError, ClientError) as error:
        # The worker still runs: the claim on the row keeps a second delivery from converting.
        logger.error(
            "could not make the visibility timeout of %s %s s (%s): a job running longer than "
            "the queue's own timeout will be delivered to a second worker, which drops it",
            url, needed, error,
        )  # fmt: skip
