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


# ---------------------------------------------------------------- hidden and deleted files

# Moves inside the bucket are server-side copies (no byte passes through us): one CopyObject
# up to 256 MB, beyond that parts of 128 MB copied ten at a time: a long video moves in the time
# of a few part copies, not of one stream of the whole file.
COPY_CONFIG_OPTIONS = {
    "multipart_threshold": 256 * MB,
    "multipart_chunksize": 128 * MB,
    "max_concurrency": 10,
}
# The headers a moved object keeps (S3 serves them with it).
KEPT_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")
# A DeleteObjects request takes at most this many keys.
DELETE_BATCH = 1000


def s3_signed_url(storage, name: str, *, seconds: int) -> str:
    """A link to a private object of an S3Storage's bucket that S3 honours for `seconds`
    (signature version 4, up to 7 days; less when the credentials are temporary and end
    sooner, as an instance role's do)."""
    return storage.connection.meta.client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket_name, "Key": name}, ExpiresIn=seconds
    )


def s3_move(storage, source: str, target: str, *, acl: str | None = None) -> bool:
    """Move an object inside an S3Storage's bucket: copy it (type and cache headers kept, the
    ACL given or none, so private) and delete the source. False when the source is missing."""
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import ClientError

    client = storage.connection.meta.client
    bucket = storage.bucket_name
    try:
        head = client.head_object(Bucket=bucket, Key=source)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    extra = {
        "MetadataDirective": "REPLACE",
        "ContentType": head.get("ContentType") or "binary/octet-stream",
        "Metadata": head.get("Metadata") or {},
        **{key: head[key] for key in KEPT_HEADERS if head.get(key)},
    }
    if acl:
        extra["ACL"] = acl
    client.copy(
        {"Bucket": bucket, "Key": source},
        bucket,
        target,
        ExtraArgs=extra,
        Config=TransferConfig(**COPY_CONFIG_OPTIONS),
    )
    client.delete_object(Bucket=bucket, Key=source)
    return True


def s3_delete(storage, names: list[str]) -> None:
    """Delete objects of an S3Storage's bucket, up to 1000 a request; OSError naming the keys
    S3 could not delete (a missing key is not an error)."""
    client = storage.connection.meta.client
    failed = []
    for start in range(0, len(names), DELETE_BATCH):
        batch = names[start : start + DELETE_BATCH]
        answer = client.delete_objects(
            Bucket=storage.bucket_name,
            Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
        )
        failed += [f"{error['Key']} ({error.get('Code')})" for error in answer.get("Errors", [])]
    if failed:
        raise OSError(f"S3 did not delete {', '.join(failed[:10])}")


_distributions: dict[str, str] = {}  # CloudFront host -> distribution ID, once found


def cloudfront_invalidate(*, host: str, distribution_id: str | None, paths: list[str]) -> str:
    """Make CloudFront forget `paths` (URL paths, "/videos/<id>.mp4" or "/videos/*") at every
    edge; it stops serving them within seconds to a few minutes. Returns the invalidation's
    ID. The distribution is `distribution_id`, or the one serving `host` (needs
    cloudfront:ListDistributions, once a process)."""
    import uuid

    import boto3
    from botocore.config import Config

    client = boto3.client("cloudfront", region_name="us-east-1", config=Config(**CLIENT_OPTIONS))
    distribution_id = distribution_id or _distribution_serving(client, host)
    answer = client.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": uuid.uuid4().hex,
        },
    )
    return answer["Invalidation"]["Id"]


def _distribution_serving(client, host: str) -> str:
    host = host.lower()
    if host in _distributions:
        return _distributions[host]
    for page in client.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items", []):
            names = [item["DomainName"], *item.get("Aliases", {}).get("Items", [])]
            if host in (name.lower() for name in names):
                _distributions[host] = item["Id"]
                return item["Id"]
    raise LookupError(f"no CloudFront distribution serves {host}; set cf_distribution_id")


# ---------------------------------------------------------------- uploads straight to S3


def s3_multipart_start(storage, key: str) -> str:
    """A multipart upload of one key of an S3Storage's bucket; its UploadId."""
    client = storage.connection.meta.client
    return client.create_multipart_upload(Bucket=storage.bucket_name, Key=key)["UploadId"]


def s3_part_url(storage, key: str, upload_id: str, number: int, *, seconds: int) -> str:
    """A URL that lets its holder PUT one part of that one upload, for `seconds`."""
    return storage.connection.meta.client.generate_presigned_url(
        "upload_part",
        Params={"Bucket": storage.bucket_name, "Key": key, "UploadId": upload_id,
                "PartNumber": number},
        ExpiresIn=seconds,
    )  # fmt: skip


def s3_parts(storage, key: str, upload_id: str) -> list[dict]:
    """The parts S3 holds of an upload: [{"number", "etag", "size"}], by number."""
    client = storage.connection.meta.client
    parts, marker = [], 0
    while True:
        answer = client.list_parts(
            Bucket=storage.bucket_name, Key=key, UploadId=upload_id, PartNumberMarker=marker
        )
        parts += [{"number": part["PartNumber"], "etag": part["ETag"], "size": part["Size"]}
                  for part in answer.get("Parts", [])]  # fmt: skip
        if not answer.get("IsTruncated"):
            return parts
        marker = answer["NextPartNumberMarker"]


def s3_multipart_complete(storage, key: str, upload_id: str, parts: list[dict]) -> int:
    """Join the parts (numbers and ETags) into the object; its size."""
    client = storage.connection.meta.client
    client.complete_multipart_upload(
        Bucket=storage.bucket_name,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": part["number"], "ETag": part["etag"]}
                                   for part in parts]},
    )  # fmt: skip
    return client.head_object(Bucket=storage.bucket_name, Key=key)["ContentLength"]


def s3_multipart_abort(storage, key: str, upload_id: str) -> None:
    """Drop an upload's parts (a missing upload is no error: it was completed or dropped)."""
    from botocore.exceptions import ClientError

    try:
        storage.connection.meta.client.abort_multipart_upload(
            Bucket=storage.bucket_name, Key=key, UploadId=upload_id
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
            raise
