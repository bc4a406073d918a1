"""The worker's health check, for a container or an auto-scaling group: exit 0 when healthy.

There is no ping of the running worker: remote control is off (settings.py), so the worker
has no control queue to answer on. A worker process that dies ends its container instead.
"""

import os

from django.core.management.base import BaseCommand, CommandError

from config.celery import app
from config.health import database_problem


def broker_problem(timeout: float) -> str:
    """'' when the broker answers for the job queue, else why not."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            # A passive declare asks the broker about the queue (SQS: the queue must exist;
            # the folder queue: its folder is read) without creating or changing anything.
            queue = app.amqp.queues[app.conf.task_default_queue]
            queue.bind(conn.default_channel).queue_declare(passive=True)
            folder = conn.transport_options.get("data_folder_in")
            if folder and not os.access(folder, os.W_OK | os.X_OK):
                return f"broker unreachable: cannot write to the queue folder {folder}"
    except Exception as error:
        return f"broker unreachable: {error}"
    return ""


class Command(BaseCommand):
    help = (
        "Exit 0 when this machine can run jobs (the database and the broker answer); "
        "otherwise exit 1 and say why."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="seconds to wait for the broker"
        )

    def handle(self, *args, timeout: float, **options):
        problems = [problem for problem in (database_problem(), broker_problem(timeout)) if problem]
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        self.stdout.write("ok: database, broker")
