"""Read VideoShare's configuration: the seed's keys, from the environment and config.conf.

Plain Python (no Django), so settings, gunicorn and scripts share one reader.

Precedence, highest first:
1. environment variables ``VIDEOSHARE_<KEY>`` (``VIDEOSHARE_WEB_PORT=9000``);
2. the AWS Secrets Manager secret named by ``[SECRETS] name`` / ``region`` in config.conf (or
   ``VIDEOSHARE_SECRET_NAME`` / ``VIDEOSHARE_SECRET_REGION``): a JSON object of keys, as the
   seed's deployment guide makes it; empty values count as unset;
3. ``config.conf`` (INI): the seed's ``[FFMPEG] ffmpeg`` / ``ffmpeg_args`` and any key in a
   ``[VIDEOSHARE]`` section;
4. the defaults below, which make up the embedded single-machine setup.
"""

import configparser
import json
import os
from pathlib import Path

# Every key, with its default. None means "no default: unset unless configured".
DEFAULTS: dict[str, str | None] = {
    # the seed's Secrets Manager keys
    "web_url": None,  # public base URL used in emails; default http://localhost:<web_port>
    "web_port": "8080",
    "rds_url": None,
    "rds_port": None,
    "rds_user": None,
    "rds_pass": None,
    "rds_db": None,
    "sqs_url": None,
    "s3_url": None,  # bucket name: files on S3 instead of <data_dir>/media
    "cf_url": None,  # CloudFront subdomain (or host) in the public files' URLs
    "ses_email": None,  # SES-verified sender: mail goes through Amazon SES
    "splunk_api_url": None,
    "splunk_api_port": None,
    "splunk_api_protocol": None,
    "splunk_api_token": None,
    "splunk_index": None,
    "splunk_source": None,
    "splunk_sourcetype": None,
    # the seed's config.conf [FFMPEG] section
    "ffmpeg": "ffmpeg",
    "ffmpeg_args": "",
    # the seed's config.conf [SECRETS] section (name, region): where the keys above are kept
    "secret_name": None,  # e.g. videoshare/develop/config; unset: no Secrets Manager
    "secret_region": None,  # the deployment's region, used by S3 and SES too; default: boto3's
    # keys VideoShare adds, in the same style
    "data_dir": "./var",
    "db_engine": None,  # sqlite, mysql or postgresql; default sqlite, or mysql when rds_url is set
    "secret_key": None,  # generated once into <data_dir>/secret_key when unset
    "debug": "false",
    "allowed_hosts": None,  # comma-separated; default: web_url's host, localhost, 127.0.0.1
    "broker_url": None,  # default: a folder queue under <data_dir>/queue
    "email_from": None,  # default: ses_email, else no-reply@localhost
    "s3_public_acl": None,  # e.g. public-read, for buckets with ACLs on; default: bucket policy
    "cf_distribution_id": None,  # cf_url's distribution (E2ABC...); default: looked up by host
    "hidden_link_seconds": "14400",  # the organizer's signed links to a hidden entry's files
    "smtp_host": None,  # send mail through this SMTP server (over SES, if both are set)
    "smtp_port": "587",
    "smtp_user": None,
    "smtp_password": None,
    "smtp_tls": "true",  # STARTTLS after connecting (port 587)
    "smtp_ssl": "false",  # TLS from the first byte (port 465); excludes smtp_tls
    "max_upload_mb": "2048",
    "convert_timeout": "1800",  # seconds one ffmpeg run may take
    "convert_max_attempts": "3",
    "job_lease_seconds": "60",  # a running job's claim, renewed by its heartbeat
    "sweep_seconds": "15",  # how often lapsed jobs, unsent messages and emails are sent again
    "streams_at_once": "1",  # stream jobs running at once, cluster-wide; conversions go first
    "requeue_after_seconds": "900",  # a queued job whose message was lost is sent again
    "email_claim_seconds": "120",  # an email being sent is claimed this long
    "outage_pause_seconds": "30",  # first pause after our side failed (disk, storage, mail)
    "forwarded_allow_ips": "127.0.0.1",  # proxies whose X-Forwarded-* headers are believed
    # HTTPS (when web_url is https://): how long browsers must use it, and for what
    "hsts_seconds": "31536000",  # Strict-Transport-Security max-age, a year; 0: no HSTS
    "hsts_include_subdomains": "false",  # every subdomain of web_url's host too
    "hsts_preload": "false",  # ask to be on the browsers' preload list
    "web_drain_seconds": "90",  # on SIGTERM, uploads in progress get this long to finish
    "web_workers": "2",
    "worker_concurrency": "2",
    "ffmpeg_threads": "0",  # x264 threads a conversion; 0: one a core (bench/batch.py)
    # what an upload may declare, checked from its headers before any work is queued
    "max_duration_seconds": "1800",
    "max_video_side": "4096",  # largest width or height, in pixels
    "max_video_pixels": "8912896",  # width x height (4096 x 2176)
    "max_streams": "16",  # video, audio, subtitle and data streams together
    "max_frame_rate": "240",  # frames a second
    "max_banner_mb": "10",
    "max_banner_pixels": "25000000",
    "banner_side": "1920",  # banners are stored scaled down to fit this many pixels a side
    # what reading and converting one upload may spend
    "probe_memory_mb": "512",  # the upload check runs in a child process with these limits
    "probe_seconds": "20",
    "convert_memory_mb": "3072",  # address space of one ffmpeg run
    "max_output_mb": "4096",  # largest converted file
    "convert_timeout_base": "120",  # seconds every conversion may take...
    "convert_timeout_per_second": "4",  # ...plus this many a second of input (to convert_timeout)
    # rate limits and quotas, shared by every web instance through the cache
    "cache_url": None,  # redis://...; default: the database
    "entries_per_email": "3",  # default entry limit of a new contest, per participant email
    "uploads_per_address_hour": "150",
    "signups_per_address_hour": "10",
    "emails_per_recipient_day": "10",
    "contests_per_account": "50",
    "contest_storage_gb": "20",  # total size of a contest's originals
    # logins and API tokens
    "token_lifetime_hours": "720",  # an API token works this long (30 days), then a new one
    "login_failures_per_account": "10",  # failed log-ins per email address in a window...
    "login_failures_per_address": "30",  # ...and per client network (IPv6: per /64)...
    "login_window_minutes": "15",  # ...of this length; beyond, no password is checked
    "password_resets_per_account_hour": "5",  # reset links asked for one email address
    "password_resets_per_address_hour": "20",  # reset links asked for from one network
}

ENV_PREFIX = "VIDEOSHARE_"
# config.conf sections read, in order (a later one wins), and the keys they name differently
SECTIONS = {
    "SECRETS": {"name": "secret_name", "region": "secret_region"},
    "FFMPEG": {},
    "VIDEOSHARE": {},
}
# What the secret may not set: where the secret itself is.
NOT_FROM_SECRET = ("secret_name", "secret_region")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the key."""


def default_config_file() -> Path | None:
    path = os.environ.get(ENV_PREFIX + "CONFIG_FILE")
    if path:
        return Path(path)
    here = Path("config.conf")
    return here if here.exists() else None


def read_config_file(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist (VIDEOSHARE_CONFIG_FILE)")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise ConfigError(f"config file {path} is not valid INI: {error}") from error
    values: dict[str, str] = {}
    for section, renamed in SECTIONS.items():
        if parser.has_section(section):
            for key, value in parser.items(section):
                values[renamed.get(key, key)] = value.strip()
    return values


JSON_KINDS = {dict: "object", list: "array", str: "string", int: "number", float: "number"}


def read_secret(name: str, region: str) -> dict[str, str]:
    """The known keys of the secret's JSON object, as text; empty and null values left out."""
    from config import aws  # boto3 is loaded only when a secret is configured

    text = aws.read_secret(name, region)
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"secret {name!r} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        kind = JSON_KINDS.get(type(data), "value")
        raise ConfigError(f"secret {name!r} must be a JSON object of keys, got a JSON {kind}")
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in DEFAULTS or key in NOT_FROM_SECRET:
            continue  # a key for another tool sharing the secret
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str):
            kind = JSON_KINDS.get(type(value), "value")
            raise ConfigError(f"secret {name!r}: {key} must be text or a number, got a JSON {kind}")
        if value.strip():  # the seed's template holds "" for every key not set up yet
            values[key] = value.strip()
    return values


def load(environ: dict[str, str] | None = None, config_file: Path | None = None) -> dict[str, str]:
    """Return every known key with its value ('' when unset and without default)."""
    environ = os.environ if environ is None else environ
    from_file = read_config_file(config_file if config_file else default_config_file())

    def env_or_file(key: str) -> str:
        value = environ.get(ENV_PREFIX + key.upper())
        return (value if value is not None else from_file.get(key, "")).strip()

    secret_name = env_or_file("secret_name")
    from_secret = read_secret(secret_name, env_or_file("secret_region")) if secret_name else {}
    values: dict[str, str] = {}
    for key, default in DEFAULTS.items():
        env_value = environ.get(ENV_PREFIX + key.upper())
        if env_value is not None:
            values[key] = env_value.strip()
        elif key in from_secret:
            values[key] = from_secret[key]
        elif key in from_file:
            values[key] = from_file[key]
        else:
            values[key] = default or ""
    return values


def as_int(values: dict[str, str], key: str) -> int:
    try:
        return int(values[key])
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, got {values[key]!r}") from None


def ffmpeg_threads(values: dict[str, str]) -> int:
    """x264 threads of one conversion: ffmpeg_threads, or when 0 one for each core this process
    may use (bench/batch.py: as fast as one thread each for a batch on 2 cores with 2
    conversions at once, and a lone conversion 1.5 times faster; x264's own 1.5 a core is
    slower for a batch)."""
    threads = as_int(values, "ffmpeg_threads")
    if threads > 0:
        return threads
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def as_bool(values: dict[str, str], key: str) -> bool:
    text = values[key].lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{key} must be true or false, got {values[key]!r}")


def web_url(values: dict[str, str]) -> str:
    url = values["web_url"] or f"http://localhost:{as_int(values, 'web_port')}"
    if "://" not in url:
        url = "http://" + url  # the seed stores the load balancer's host name alone
    return url.rstrip("/")
