"""How email leaves: .eml files in the data folder (embedded), or a mail service."""

from pathlib import Path


def email_settings(config: dict[str, str], data_dir: Path) -> dict:
    """EMAIL_* and DEFAULT_FROM_EMAIL settings."""
    sender = config["email_from"] or config["ses_email"] or "VideoShare <no-reply@localhost>"
    return {
        "EMAIL_BACKEND": "videos.mail.EmlFileBackend",
        "EMAIL_FILE_PATH": data_dir / "mail",
        "DEFAULT_FROM_EMAIL": sender,
    }
