"""Celery's broker: a folder queue in the data folder (embedded), or the configured server."""

from pathlib import Path


def broker(config: dict[str, str], data_dir: Path, *, visibility_timeout: int) -> tuple[str, dict]:
    """The broker URL and its transport options.

    visibility_timeout: seconds a taken, unacknowledged job stays invisible before the broker
    hands it to another worker (SQS, Redis); longer than a job may run.
    """
    url = config["broker_url"] or "filesystem://localhost/"
    if url.startswith("filesystem://"):
        folder = data_dir / "queue"
        for sub in ("messages", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return url, {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.2,  # seconds between looks at the folder
        }
    return url, {"visibility_timeout": visibility_timeout}
