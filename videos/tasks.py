"""Celery tasks: thin wrappers that take an id and call a service."""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from videos import services

# ffmpeg has settings.CONVERT_TIMEOUT; the task gets a margin for copying files in and out.
CONVERT_SOFT_LIMIT = settings.CONVERT_TIMEOUT + 120
CONVERT_HARD_LIMIT = settings.CONVERT_TIMEOUT + 240


@shared_task(
    bind=True, max_retries=None, soft_time_limit=CONVERT_SOFT_LIMIT, time_limit=CONVERT_HARD_LIMIT
)
def convert_video(self, video_id: str) -> None:
    try:
        services.video_convert(video_id=video_id)
    except services.TemporaryFailure as failure:
        # Bounded by the attempts counter on the row, not by Celery: the row decides.
        raise self.retry(countdown=min(30 * (self.request.retries + 1), 300)) from failure


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
