"""Celery tasks: thin wrappers that take an id and call a service; the worker's sweeper."""

import logging
import threading
import time

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from videos import selectors, services

logger = logging.getLogger(__name__)
DATABASE_DOWN = (OperationalError, InterfaceError)

# ffmpeg has at most settings.CONVERT_TIMEOUT; the task gets a margin for copying files.
CONVERT_SOFT_LIMIT = settings.CONVERT_TIMEOUT + 120
CONVERT_HARD_LIMIT = settings.JOB_MAX_SECONDS
# How often an idle stream thread looks for a ready entry without its stream.
STREAMS_LOOK_SECONDS = 2


@shared_task(
    bind=True, max_retries=None, soft_time_limit=CONVERT_SOFT_LIMIT, time_limit=CONVERT_HARD_LIMIT
)
def convert_video(self, video_id: str) -> None:
    """One turn of conversion: the entry whose turn it is, not always `video_id` itself."""
    try:
        done = services.video_convert_next(hint=video_id)
        come_back = None if done else services.video_turn_later(video_id=video_id)
    except services.TemporaryFailure as failure:
        # Bounded by the attempts counter on the row, not by Celery: the row decides.
        raise self.retry(countdown=failure.retry_after) from failure
    except DATABASE_DOWN as error:
        # Not acknowledged as failed: the job waits for the database like everyone else.
        close_old_connections()
        raise self.retry(countdown=min(5 * 2**self.request.retries, 60)) from error
    if come_back is not None:
        # Nothing could be claimed, and this message's entry is pausing before a retry or
        # held by a live worker: keep the turn for later instead of dropping it.
        raise self.retry(countdown=come_back)


@shared_task(soft_time_limit=CONVERT_SOFT_LIMIT, time_limit=CONVERT_HARD_LIMIT)
def make_streams(video_id: str) -> None:
    """Streams are made by each worker's stream thread, never on the job queue. This task
    stays for messages already queued; what it leaves, the thread makes."""
    try:
        services.video_make_streams(video_id=video_id)
    except DATABASE_DOWN:
        close_old_connections()


@shared_task(soft_time_limit=60, time_limit=90)
def notify_participant(video_id: str) -> None:
    """Emails are sent by the worker that finished the entry, and again by the sweeper, never
    behind conversions on the queue. This task stays for messages already queued."""
    services.notify_now(video_id=video_id)


@shared_task(soft_time_limit=120, time_limit=180)
def requeue_stale_videos() -> dict:
    """The sweep as a task, for operators (`manage.py requeue_stale_videos` runs it in place)."""
    return services.videos_requeue_stale()


@worker_ready.connect
def start_sweeper(**kwargs) -> None:
    """Each worker sweeps in a thread of its main process, never queued behind conversions; a
    lock in the shared cache lets one sweep run per interval for the whole cluster. A worker
    that starts sweeps at once: it picks up what a dead one left behind.

    Another thread makes the ready entries' streams, one at a time and at the lowest CPU
    priority: on the job queue a stream job held a place (and a prefetched message) that the
    next conversion then waited for."""
    threading.Thread(target=_sweep_forever, name="sweeper", daemon=True).start()
    threading.Thread(target=_make_streams_forever, name="streams", daemon=True).start()


def _log_backlog() -> None:
    """The cluster's backlog as one log event per sweep: the operator's metric (chart
    event=backlog in the log search), and a warning while our side makes entries wait."""
    counts = selectors.backlog()
    waiting_on_us = counts["waiting_on_our_side"] or counts["emails_waiting_on_mail"]
    logger.log(
        logging.WARNING if waiting_on_us else logging.INFO,
        "backlog: %s",
        counts,
        extra={"event": "backlog", **counts},
    )


def _make_streams_forever() -> None:
    while True:
        pause = 0
        try:
            if not services.streams_make_next():  # nothing due, or conversions go first
                pause = STREAMS_LOOK_SECONDS
        except Exception:  # the entry is due again later; the database may be down
            logger.exception("stream job failed", extra={"event": "streams_job_failed"})
            pause = settings.SWEEP_SECONDS
        finally:
            close_old_connections()
        time.sleep(pause)


def _sweep_forever() -> None:
    while True:
        try:
            counts = services.upkeep_sweep()
            if counts is not None:  # this worker had the cluster's turn: it reports for all
                if any(counts.values()):
                    logger.info("sweep: %s", counts, extra={"event": "sweep", **counts})
                _log_backlog()
        except Exception:  # e.g. the database is down: the next round tries again
            logger.exception("sweep failed", extra={"event": "sweep_failed"})
        finally:
            close_old_connections()
        time.sleep(settings.SWEEP_SECONDS)
