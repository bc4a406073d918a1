"""Logging: readable lines on stdout."""


def logging_config(config: dict[str, str]) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }
