"""Logging: one JSON object a line on stdout, and Splunk's HTTP Event Collector when configured.

The stdlib is enough: the formatter is a dozen lines, and a package (python-json-logger) would
only save the field filter below. Product events carry their fields with `extra=`:

    logger.info("upload received", extra={"event": "upload_received", "video_id": ...})
"""

import json
import logging
from datetime import UTC, datetime

# What every LogRecord has; any other attribute came from `extra=` and is one of the event's fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_traceback = logging.Formatter()


def record_fields(record: logging.LogRecord) -> dict:
    """A record as flat fields: level, logger, message, pid and the event's own fields."""
    fields = {
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
        "pid": record.process,  # tells the processes of one machine apart (gunicorn, Celery pool)
    }
    fields.update((key, value) for key, value in record.__dict__.items() if key not in _STANDARD)
    if record.exc_info:
        fields["error"] = _traceback.formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        # default=str: ids (UUID), dates and anything else a caller passes become text.
        return json.dumps({"time": time, **record_fields(record)}, default=str)


def hec_url(config: dict[str, str]) -> str:
    """The seed's splunk_api_* keys as the HEC endpoint; https and 8088 are Splunk's defaults."""
    protocol = config.get("splunk_api_protocol") or "https"
    port = config.get("splunk_api_port") or "8088"
    return f"{protocol}://{config['splunk_api_url']}:{port}/services/collector/event"


def logging_config(config: dict[str, str]) -> dict:
    handlers = {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    }
    if config.get("splunk_api_url") and config.get("splunk_api_token"):
        handlers["splunk"] = {
            "()": "config.splunk.HecHandler",
            "url": hec_url(config),
            "token": config["splunk_api_token"],
            "index": config.get("splunk_index", ""),
            "source": config.get("splunk_source", ""),
            "sourcetype": config.get("splunk_sourcetype", ""),
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": "INFO"},
        # boto3 says at INFO where it found credentials, each time a client is made.
        "loggers": {"botocore": {"level": "WARNING"}},
    }
