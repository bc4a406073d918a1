"""Every boto3 call of VideoShare's own. django-storages (S3) and anymail (SES) make theirs.

boto3 reads credentials the standard way (instance role on EC2, AWS_* environment variables,
~/.aws) and honours AWS_ENDPOINT_URL, which is how the tests point it at a local moto server.
boto3 is imported only when an AWS feature is configured, so the embedded setup never loads it.
"""

from config.loader import ConfigError

MB = 1024 * 1024

# Secrets Manager answers in milliseconds; a start-up that cannot reach it should fail in seconds
# with the secret's name, not hang.
CLIENT_OPTIONS = {
    "connect_timeout": 5,
    "read_timeout": 10,
    "retries": {"mode": "standard", "max_attempts": 3},
}


def read_secret(name: str, region: str) -> str:
    """The text of a Secrets Manager secret; ConfigError naming the secret when it cannot be had."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"secret {name!r} in region {region or '(default)'}"
    try:
        client = boto3.client(
            "secretsmanager", region_name=region or None, config=Config(**CLIENT_OPTIONS)
        )
        answer = client.get_secret_value(SecretId=name)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise ConfigError(f"{where} does not exist (secret_name)") from error
        raise ConfigError(f"cannot read {where}: {error}") from error
    except BotoCoreError as error:  # no region, no credentials, endpoint unreachable
        raise ConfigError(f"cannot read {where}: {error}") from error
    if "SecretString" in answer:
        return answer["SecretString"]
    try:
        return answer["SecretBinary"].decode("utf-8")
    except (KeyError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where} holds no text") from error


def s3_transfer_config():
    """How S3 transfers run: objects above 16 MB go in 8 MB parts, four at a time.

    An upload holds at most 4 parts in memory (about 40 MB measured, whatever the video's size),
    a download a few MB; a failed part is retried alone. 2 GB (max_upload_mb) is 256 parts, far
    from S3's limit of 10,000.
    """
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=16 * MB,
        multipart_chunksize=8 * MB,
        max_concurrency=4,
        max_io_queue=16,  # 256 KB pieces waiting for the disk (boto3's 100 let 25 MB pile up)
    )
    # An upload from an open file reads its parts into memory ahead of sending them; boto3 lets
    # 10 wait by default (80 MB). Not a TransferConfig argument, hence the attribute.
    config.max_in_memory_upload_chunks = 4
    return config


def s3_download(storage, name: str, local_file) -> None:
    """Stream an object of an S3Storage into an open local file, part by part.

    storage.open() would first pull the whole object into its own buffer (in memory, unless
    max_memory_size spills it to disk) before the first read: a second full copy of a video.
    """
    with storage.open(name, "rb") as stored:  # a HEAD request: FileNotFoundError when missing
        stored.obj.download_fileobj(local_file, Config=storage.transfer_config)


def sqs_visibility_timeout(queue_url: str, region: str | None) -> int:
    import boto3

    client = boto3.client("sqs", region_name=region)
    answer = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
    return int(answer["Attributes"]["VisibilityTimeout"])


def sqs_set_visibility_timeout(queue_url: str, region: str | None, seconds: int) -> None:
    import boto3

    client = boto3.client("sqs", region_name=region)
    client.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(seconds)})
