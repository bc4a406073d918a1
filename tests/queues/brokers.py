"""Private room on the shared brokers: runs that share a server never take each other's jobs."""

import contextlib
import random
import secrets
import shutil
import subprocess

from tests.servers import MotoServer, require_server, unavailable


@contextlib.contextmanager
def redis_url():
    """A Redis database of its own (1-15), emptied afterwards."""
    import redis

    host, port = require_server("redis")
    for index in random.sample(range(1, 16), 15):
        client = redis.Redis(host=host, port=port, db=index)
        # The marker makes two runs that both found the database empty take it only once.
        if client.dbsize() == 0 and client.set("videoshare-test", "taken", nx=True):
            break
    else:
        unavailable(f"every Redis database on {host}:{port} is in use")
    try:
        yield f"redis://{host}:{port}/{index}"
    finally:
        client.flushdb()


@contextlib.contextmanager
def rabbitmq_url():
    """A RabbitMQ virtual host of its own, deleted afterwards (rabbitmqctl: as root)."""
    host, port = require_server("rabbitmq")
    rabbitmqctl = shutil.which("rabbitmqctl") or unavailable("rabbitmqctl is not on PATH")
    vhost = f"videoshare-test-{secrets.token_hex(4)}"

    def run(*args: str) -> None:
        subprocess.run([rabbitmqctl, "-q", *args], check=True, capture_output=True, timeout=60)

    run("add_vhost", vhost)
    try:
        run("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{host}:{port}/{vhost}"
    finally:
        run("delete_vhost", vhost)


def sqs_client(moto: MotoServer):
    import boto3

    return boto3.client("sqs", endpoint_url=moto.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip


def sqs_queue(moto: MotoServer) -> str:
    """A new queue with SQS's default visibility timeout (30 s); its URL."""
    return sqs_client(moto).create_queue(QueueName=f"videoshare-{secrets.token_hex(4)}")["QueueUrl"]


def sqs_visibility_timeout(moto: MotoServer, queue_url: str) -> int:
    answer = sqs_client(moto).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"]
    )
    return int(answer["Attributes"]["VisibilityTimeout"])
