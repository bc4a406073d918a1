"""How email leaves: an SMTP server (smtp_host), Amazon SES (ses_email), else .eml files."""

import re
from pathlib import Path

from config.loader import ConfigError, as_bool, as_int

ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def email_settings(config: dict[str, str], data_dir: Path) -> dict:
    """EMAIL_BACKEND, DEFAULT_FROM_EMAIL and the chosen backend's own settings.

    smtp_host wins over ses_email: a deployment may keep the seed's secret, where ses_email is
    also the sender, and still send through another server (SES's own SMTP interface included).
    """
    sender = config["email_from"] or config["ses_email"] or "VideoShare <no-reply@localhost>"
    if config["ses_email"] and not ADDRESS.match(config["ses_email"]):
        raise ConfigError(f"ses_email must be an email address, got {config['ses_email']!r}")
    if config["smtp_host"]:
        ssl = as_bool(config, "smtp_ssl")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": config["smtp_host"],
            "EMAIL_PORT": as_int(config, "smtp_port"),
            "EMAIL_HOST_USER": config["smtp_user"],
            "EMAIL_HOST_PASSWORD": config["smtp_password"],
            "EMAIL_USE_SSL": ssl,
            "EMAIL_USE_TLS": as_bool(config, "smtp_tls") and not ssl,  # Django allows one
            "EMAIL_TIMEOUT": 30,  # seconds; a stuck server must not hold a worker forever
            "DEFAULT_FROM_EMAIL": sender,
        }
    if config["ses_email"]:
        return {
            "EMAIL_BACKEND": "anymail.backends.amazon_ses.EmailBackend",
            "ANYMAIL": {
                "AMAZON_SES_CLIENT_PARAMS": {
                    "region_name": config["secret_region"] or None,
                    "config": {"connect_timeout": 10, "read_timeout": 30},
                },
            },
            "DEFAULT_FROM_EMAIL": sender,
        }
    return {
        "EMAIL_BACKEND": "videos.mail.EmlFileBackend",
        "EMAIL_FILE_PATH": data_dir / "mail",
        "DEFAULT_FROM_EMAIL": sender,
    }
