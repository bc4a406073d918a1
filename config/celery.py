import functools
import logging
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from celery.worker import consumer

from config import cleanup, queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# After a broker outage the worker tries to reconnect at least this often (Celery's own pause
# grows to 30 s): jobs resume within seconds of the broker's return.
BROKER_RETRY_MAX_SECONDS = 5


class Consumer(consumer.Consumer):
    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=1,
            interval_step=1,
            interval_max=BROKER_RETRY_MAX_SECONDS,
        )
        return super().ensure_connected(conn)


app = Celery("videoshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_shutdown.connect
def flush_logs(**kwargs) -> None:
    # A pool process ends with os._exit, which skips atexit: send its last log events now.
    logging.shutdown()


@worker_init.connect
def prepare_queue(**kwargs) -> None:
    queue.sqs_visibility_ensure(app.conf.broker_url, app.conf.broker_transport_options)


@worker_init.connect
def remove_stale_scratch(**kwargs) -> None:
    """Scratch folders of conversions a crash ended. A live one on this machine is younger
    than the longest a job may run."""
    from django.conf import settings

    removed = cleanup.remove_stale(settings.SCRATCH_DIR, older_than=settings.JOB_MAX_SECONDS)
    if removed:
        logging.getLogger(__name__).info("removed %s stale scratch folders", removed)


@worker_process_init.connect
def start_probe_server(**kwargs) -> None:
    """Each pool process reads uploads through its own probe server (conversions probe with
    warm_probe=True): started now, the first job does not wait for Python and PyAV to load."""
    import transcoding

    transcoding.ProbeServer.of_this_process().start()
