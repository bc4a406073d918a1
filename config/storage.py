"""Where files live: local folders in the data folder (embedded), or S3 + CloudFront."""

import re
from pathlib import Path

from config.loader import ConfigError

MB = 1024 * 1024
# The organizer's link to an original works this long: enough to start the download, too short
# to be worth passing around.
ORIGINAL_LINK_SECONDS = 300
# S3 signs a link for at most 7 days (signature version 4).
LONGEST_LINK_SECONDS = 7 * 24 * 3600

# Key prefixes of the public storage. Only PUBLIC_PREFIXES may be readable by anyone (bucket
# policy, CloudFront, /media/); entries/<id>/ holds an entry's thumbnails, HLS stream and
# storyboard (videos/assets.py). A hidden entry's MP4, poster and folder move under HIDDEN_PREFIX
# (hidden/videos/<id>.mp4), which is private like originals/: only the organizer gets links.
PUBLIC_PREFIXES = ("videos/", "posters/", "banners/", "entries/")
HIDDEN_PREFIX = "hidden/"

# Legacy us-east-1 buckets may have capitals and underscores, as the seed's "MyVideoShareBucket".
BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{8,32}$")
HOST = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def storages(config: dict[str, str], data_dir: Path) -> dict:
    """Django's STORAGES: "default" is public (banners, videos, posters), "originals" private."""
    static = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    if config["s3_url"]:
        return {**s3_storages(config), "staticfiles": static}
    media = data_dir / "media"
    return {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": media / "public",
                "base_url": "/media/",
                "allow_overwrite": True,
            },
        },
        "originals": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media / "originals", "base_url": None, "allow_overwrite": True},
        },
        "staticfiles": static,
    }


def s3_storages(config: dict[str, str]) -> dict:
    """Both storages in the seed's one bucket, told apart by key prefix.

    Public files get plain URLs (CloudFront's when cf_url is set); whether anyone may read them
    is the bucket's policy (or s3_public_acl on buckets that still use ACLs). Originals are never
    given an ACL, so they stay private to the account; the organizer gets a signed link to one.
    """
    from config import aws

    common = {
        "bucket_name": s3_bucket(config),
        "region_name": config["secret_region"] or None,
        "signature_version": "s3v4",
        "file_overwrite": True,  # deterministic keys: a second conversion overwrites
        "max_memory_size": 8 * MB,  # storage.open() keeps bigger files on disk, not in memory
        "transfer_config": aws.s3_transfer_config(),
    }
    return {
        "default": {
            "BACKEND": "config.s3.PublicS3Storage",
            "OPTIONS": {
                **common,
                "querystring_auth": False,
                "custom_domain": cloudfront_host(config),
                "default_acl": config["s3_public_acl"] or None,
                "object_parameters": {"CacheControl": "public, max-age=3600"},
                "hidden_link_seconds": hidden_link_seconds(config),
                "cloudfront_distribution_id": cloudfront_distribution_id(config),
            },
        },
        "originals": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **common,
                "querystring_auth": True,
                "querystring_expire": ORIGINAL_LINK_SECONDS,
                "custom_domain": None,  # a CloudFront URL would be unsigned
                "default_acl": None,
            },
        },
    }


def s3_bucket(config: dict[str, str]) -> str:
    """The seed stores the bucket's name; s3://name is accepted too."""
    name = config["s3_url"].removeprefix("s3://").rstrip("/")
    if not BUCKET.match(name):
        raise ConfigError(f"s3_url must be an S3 bucket name, got {config['s3_url']!r}")
    return name


def cloudfront_host(config: dict[str, str]) -> str | None:
    """The seed stores the distribution's subdomain alone (5sRrs3wsefd for
    5sRrs3wsefd.cloudfront.net); a full host name, with or without https://, works too."""
    value = config["cf_url"].removeprefix("https://").removeprefix("http://").rstrip("/")
    if not value:
        return None
    if not HOST.match(value):
        raise ConfigError(
            f"cf_url must be a CloudFront subdomain or host, got {config['cf_url']!r}"
        )
    return value if "." in value else f"{value}.cloudfront.net"


def cloudfront_distribution_id(config: dict[str, str]) -> str | None:
    """The distribution whose cache is cleared when files stop being public (E2ABC...); unset,
    it is found from cf_url's host when first needed."""
    value = config["cf_distribution_id"]
    if not value:
        return None
    if not DISTRIBUTION_ID.match(value):
        raise ConfigError(f"cf_distribution_id must be a CloudFront distribution ID, got {value!r}")
    return value


def hidden_link_seconds(config: dict[str, str]) -> int:
    """How long the organizer's links to a hidden entry's files work: players ask for byte
    ranges all through playback, so a link must outlive a viewing of the longest video."""
    try:
        seconds = int(config["hidden_link_seconds"])
    except ValueError:
        seconds = 0
    if not 60 <= seconds <= LONGEST_LINK_SECONDS:
        raise ConfigError(
            f"hidden_link_seconds must be a number of seconds from 60 to {LONGEST_LINK_SECONDS}, "
            f"got {config['hidden_link_seconds']!r}"
        )
    return seconds


def serves_media(config: dict[str, str]) -> bool:
    """The web process serves public files itself only when they are on its own disk."""
    return not config["s3_url"]
