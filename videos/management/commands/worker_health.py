"""The worker's health check, for a container or auto-scaling group: exit 0 when healthy."""

import os
import socket

from django.core.management.base import BaseCommand, CommandError

from config.celery import app
from config.health import database_problem


def broker_problem(timeout: float) -> str:
    """'' when the broker accepts a connection (the folder queue: its folder is writable)."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            folder = conn.transport_options.get("data_folder_in")
            # The folder queue connects without touching its folder: look at it.
            if conn.transport_cls == "filesystem" and not os.access(folder, os.W_OK | os.X_OK):
                return f"broker unreachable: cannot write to the queue folder {folder}"
    except Exception as error:
        return f"broker unreachable: {error}"
    return ""


def ping_problem(timeout: float) -> str:
    """'' when a Celery worker on this machine answers a ping through the broker."""
    host = socket.gethostname()
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as error:
        return f"ping failed: {error}"
    if not any(name.endswith("@" + host) for reply in replies for name in reply):
        return f"no worker on {host} answered a ping within {timeout:g} s"
    return ""


class Command(BaseCommand):
    help = (
        "Exit 0 when this machine can run jobs: the database and the broker answer (with "
        "--ping: and a worker here answers a ping); otherwise exit 1 and say why."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ping", action="store_true", help="also require a worker on this host to answer"
        )
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds for each check")

    def handle(self, *args, ping: bool, timeout: float, **options):
        problems = [database_problem(), broker_problem(timeout)]
        if ping and not any(problems):
            problems.append(ping_problem(timeout))
        problems = [problem for problem in problems if problem]
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        self.stdout.write("ok: database, broker" + (", worker" if ping else ""))
