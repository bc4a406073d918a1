"""Celery tasks: thin wrappers that take an id and call a service."""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from videos import services

DATABASE_DOWN = (OperationalError, InterfaceError)

# ffmpeg has at most settings.CONVERT_TIMEOUT; the task gets a margin for copying files.
CONVERT_SOFT_LIMIT = settings.CONVERT_TIMEOUT + 120
CONVERT_HARD_LIMIT = settings.JOB_MAX_SECONDS


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


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    max_retries=8,
    retry_backoff=10,
    retry_backoff_max=600,
    soft_time_limit=60,
    time_limit=90,
)
def notify_participant(self, video_id: str) -> None:
    services.participant_notify(video_id=video_id)


@shared_task(soft_time_limit=120, time_limit=180)
def requeue_stale_videos() -> dict:
    return services.videos_requeue_stale()


@worker_ready.connect
def requeue_on_start(**kwargs) -> None:
    """A worker that starts picks up what a dead one left behind, without waiting for beat."""
    requeue_stale_videos.delay()
