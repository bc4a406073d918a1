"""The worker's health check, for a container or an auto-scaling group: exit 0 when healthy.

It also prints the cluster's backlog, and what on our side (a full disk, storage or mail down)
keeps entries or emails waiting: those wait it out and are not this machine's health.

There is no ping of the running worker: remote control is off (settings.py), so the worker
has no control queue to answer on. A worker process that dies ends its container instead.
"""

import os
import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from config.celery import app
from config.health import database_problem
from videos import selectors


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


def disk_problem() -> str:
    """'' when the scratch disk has room for a conversion: the largest upload and its output."""
    folder = settings.SCRATCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    needed = 2 * settings.MAX_UPLOAD_BYTES
    if free < needed:
        mb = 2**20
        return f"disk almost full: {free // mb} MB free in {folder}, {needed // mb} MB needed"
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
        database = database_problem()
        checks = (database, broker_problem(timeout), disk_problem())
        problems = [problem for problem in checks if problem]
        if not database:
            self.write_backlog()
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        self.stdout.write("ok: database, broker, disk")

    def write_backlog(self) -> None:
        """The cluster's backlog: for the operator to read, not this machine's health."""
        try:
            counts = selectors.backlog()
            reasons = selectors.backlog_reasons()
        except DatabaseError as error:  # e.g. not migrated yet
            self.stdout.write(f"backlog: unknown ({error})")
            return
        self.stdout.write("backlog: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for reason in reasons:
            self.stdout.write(f"waiting on our side: {reason}")
