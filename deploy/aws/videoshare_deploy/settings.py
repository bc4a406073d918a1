"""The deployment's settings: CDK context keys, from cdk.json's "context" or `-c key=value`.

Every key has a default (the default size, docs/DEPLOY.md) except sender_email. A value of the
wrong kind stops the synthesis with a message naming the key, as the app's own loader does.
"""

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings are checked without the CDK installed too
    from constructs import Construct

# CloudWatch Logs keeps logs for one of these numbers of days (the CDK's names for them).
RETENTION_DAYS = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
}
SIZES = {256, 512, 1024, 2048, 4096, 8192, 16384}  # Fargate CPU units
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SettingsError(ValueError):
    """A context value is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class Settings:
    # where
    account: str = ""  # default: the CLI's account (CDK_DEFAULT_ACCOUNT)
    region: str = "us-east-1"
    availability_zones: tuple[str, ...] = ("us-east-1a", "us-east-1b")
    stack_name: str = "VideoShare"
    # the secret config.conf names, as in the original deployment
    secret_name: str = "videoshare/production/config"
    # network
    vpc_cidr: str = "10.20.0.0/16"
    nat_gateways: int = 1
    # web tier
    domain_name: str = ""  # e.g. videos.example.org; default: the load balancer's DNS name
    certificate_arn: str = ""  # ACM certificate for domain_name: HTTPS, HTTP redirected to it
    hosted_zone_id: str = ""  # Route 53 zone of domain_name: an alias record is made there
    hosted_zone_name: str = ""
    web_port: int = 8080
    web_cpu: int = 512
    web_memory_mb: int = 1024
    web_workers: int = 2
    web_min: int = 2
    web_max: int = 6
    web_cpu_target: int = 60  # percent: the original's target tracking on CPU
    web_drain_seconds: int = 90  # the app's web_drain_seconds: uploads in progress finish
    # worker tier
    worker_cpu: int = 2048
    worker_memory_mb: int = 4096
    worker_concurrency: int = 1
    worker_min: int = 1  # 0: no worker while the queue is empty (see docs/DEPLOY.md)
    worker_max: int = 4
    worker_backlog_per_task: int = 2  # queued jobs per worker task the scaling aims at
    cpu_architecture: str = "x86_64"  # or arm64 (Graviton, cheaper; the image is built for it)
    convert_timeout: int = 1800  # the app's key; the queue's visibility timeout follows it
    ephemeral_storage_gb: int = 20  # per task (Fargate's 20 GB free): uploads, a job's files
    # database
    db_engine: str = "mysql"  # or postgresql
    db_instance_class: str = "t4g.micro"
    db_storage_gb: int = 20
    db_max_storage_gb: int = 100
    db_multi_az: bool = False
    db_backup_days: int = 7
    deletion_protection: bool = True  # database; set false before tearing the stack down
    # mail
    sender_email: str = ""  # required: the SES identity mail comes from (ses_email)
    ses_identity: str = ""  # an email address or a domain; default: sender_email
    # media
    price_class: str = "100"  # CloudFront edges: 100 (North America, Europe), 200 or all
    # monitoring
    alarm_email: str = ""  # alarms are emailed here (a subscription to confirm)
    log_retention_days: int = 30
    queue_age_alarm_minutes: int = 60
    error_rate_alarm_percent: int = 5
    # Splunk's HTTP Event Collector (optional, as in the original)
    splunk_api_url: str = ""
    splunk_api_port: str = ""
    splunk_api_protocol: str = ""
    splunk_index: str = ""
    splunk_source: str = ""
    splunk_sourcetype: str = ""
    splunk_token_secret: str = ""  # name or ARN of a secret holding the HEC token

    @property
    def https(self) -> bool:
        return bool(self.certificate_arn)

    @property
    def email_identity(self) -> str:
        return self.ses_identity or self.sender_email

    @property
    def job_max_seconds(self) -> int:
        """The app's JOB_MAX_SECONDS (config/settings.py): ffmpeg's limit plus copying files."""
        return self.convert_timeout + 240

    @property
    def queue_visibility_seconds(self) -> int:
        """The app hides a taken job for JOB_MAX_SECONDS + 60 (its broker options)."""
        return self.job_max_seconds + 60


def from_context(scope: "Construct") -> Settings:
    """The settings from the CDK context of `scope` (the app)."""
    names = [item.name for item in dataclasses.fields(Settings)]
    return from_values({name: scope.node.try_get_context(name) for name in names})


def from_values(values: dict) -> Settings:
    """Settings from context values (text from `-c key=value`, or JSON from cdk.json); None or
    absent keys keep their defaults. Checked: a bad value raises SettingsError naming its key."""
    given = {}
    for item in dataclasses.fields(Settings):
        raw = values.get(item.name)
        if raw is not None:
            given[item.name] = _convert(item.name, raw, item.default)
    settings = Settings(**given)
    check(settings)
    return settings


def _convert(key: str, raw, default):
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
        raise SettingsError(f"{key} must be true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None
    if isinstance(default, tuple):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(item).strip() for item in items if str(item).strip())
    return str(raw).strip()


def check(settings: Settings) -> None:
    s = settings
    if not EMAIL.match(s.sender_email):
        raise SettingsError(
            f"sender_email must be the address mail comes from (an SES identity), "
            f"got {s.sender_email!r}: -c sender_email=contests@example.org"
        )
    if len(s.availability_zones) < 2:
        raise SettingsError("availability_zones needs two zones of the region, comma-separated")
    if any(not zone.startswith(s.region) for zone in s.availability_zones):
        raise SettingsError(f"availability_zones must be zones of {s.region}")
    if s.certificate_arn and not s.domain_name:
        raise SettingsError("certificate_arn needs domain_name, the name the certificate is for")
    if bool(s.hosted_zone_id) != bool(s.hosted_zone_name) or (
        s.hosted_zone_id and not s.domain_name
    ):
        raise SettingsError("hosted_zone_id and hosted_zone_name go together, with domain_name")
    if s.db_engine not in ("mysql", "postgresql"):
        raise SettingsError(f"db_engine must be mysql or postgresql, got {s.db_engine!r}")
    if s.cpu_architecture not in ("x86_64", "arm64"):
        raise SettingsError(f"cpu_architecture must be x86_64 or arm64, got {s.cpu_architecture!r}")
    for key in ("web_cpu", "worker_cpu"):
        if getattr(s, key) not in SIZES:
            raise SettingsError(f"{key} must be one of Fargate's sizes {sorted(SIZES)}")
    if not 0 <= s.worker_min <= s.worker_max or s.worker_max < 1:
        raise SettingsError("worker_min and worker_max: 0 <= worker_min <= worker_max, max >= 1")
    if not 1 <= s.web_min <= s.web_max:
        raise SettingsError("web_min and web_max: 1 <= web_min <= web_max")
    if not 0 < s.web_drain_seconds <= 110:
        raise SettingsError(
            "web_drain_seconds must be from 1 to 110: ECS stops a task 120 s after asking"
        )
    if s.queue_visibility_seconds > 12 * 3600:
        raise SettingsError("convert_timeout is too long for SQS (a 12-hour visibility timeout)")
    if s.log_retention_days not in RETENTION_DAYS:
        raise SettingsError(f"log_retention_days must be one of {sorted(RETENTION_DAYS)}")
    if s.price_class.lower() not in ("100", "200", "all"):
        raise SettingsError(f"price_class must be 100, 200 or all, got {s.price_class!r}")
    if not 20 <= s.ephemeral_storage_gb <= 200:
        raise SettingsError("ephemeral_storage_gb must be from 20 to 200 (Fargate's range)")
