"""Logs to Splunk's HTTP Event Collector: a real HTTP server on this machine plays Splunk."""

import logging
import os
import subprocess
import sys

import pytest
import requests

from tests.e2e.service import ROOT, Service
from tests.logs import hec_server
from tests.servers import free_port
from tests.test_api_videos import entry
from videos import services

logger = logging.getLogger("videos.services")


def test_product_events_arrive_with_their_fields(hec, use_logging, api, contest, clips, mailoutbox):
    use_logging(hec.environ())
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"]))
    video_id = response.json()["id"]
    services.video_convert(video_id=video_id)
    services.participant_notify(video_id=video_id)

    received = hec.wait_for(lambda events: len(product_events(events)) == 4, "four events")
    events = product_events(received)
    assert list(events) == ["upload_received", "job_started", "video_converted", "email_sent"]
    upload = events["upload_received"]
    assert upload["index"] == "videoshare"
    assert upload["source"] == "videoshare-tests" and upload["sourcetype"] == "_json"
    assert upload["host"] and upload["time"] > 0
    fields = upload["event"]
    assert (fields["level"], fields["logger"]) == ("INFO", "videos.services")
    assert fields["message"].startswith("upload received")
    assert (fields["video_id"], fields["contest"]) == (video_id, "summer-shorts")
    assert fields["size"] == clips[".avi"].stat().st_size
    assert events["job_started"]["event"]["attempt"] == 1
    assert events["video_converted"]["event"]["seconds"] > 0
    assert events["email_sent"]["event"]["status"] == "ready"


def product_events(received: list[dict]) -> dict[str, dict]:
    return {item["event"]["event"]: item for item in received if "event" in item["event"]}


def test_index_source_and_sourcetype_are_left_out_when_unset(hec, use_logging):
    environ = hec.environ()
    for key in ("INDEX", "SOURCE", "SOURCETYPE"):
        del environ[f"VIDEOSHARE_SPLUNK_{key}"]
    use_logging(environ)
    logger.info("hello", extra={"event": "hello"})
    (event,) = hec.wait_for(len, "an event")
    assert set(event) == {"time", "host", "event"}


def test_a_wrong_token_is_refused_and_the_app_carries_on(
    hec, use_logging, api, contest, clips, capsys
):
    splunk = use_logging(hec.environ(token="not-the-token"))["splunk"]
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".wmv"]))
    assert response.status_code == 202
    splunk.close()  # sends what is queued, within its bound
    assert hec.events == []
    assert hec.refused and {status for status, _ in hec.refused} == {403}
    assert splunk.dropped >= 1 and splunk.sent == 0
    assert "Invalid token" in capsys.readouterr().err


def test_when_splunk_is_down_logging_returns_and_nothing_raises(use_logging, capsys):
    splunk = use_logging(hec_server.environ(free_port(), "hec-test-token"))["splunk"]
    for n in range(10):
        logger.info("event %s", n, extra={"event": "test", "n": n})
    splunk.close()
    assert (splunk.dropped, splunk.sent) == (10, 0)
    assert "10 log events were not delivered" in capsys.readouterr().err


def test_a_hung_splunk_never_blocks_logging_and_the_dropped_events_are_counted(
    hec, use_logging, capsys
):
    hec.answering.clear()  # every request waits until the test says so
    splunk = use_logging(hec.environ(), queue_size=100, batch_size=100)["splunk"]
    for n in range(1000):
        logger.info("event %s", n, extra={"event": "test", "n": n})
    # Here, Splunk has answered nothing yet, so logging never waited for it: at most a queue
    # (100) and a batch in flight (100) are held; the rest is dropped and counted.
    assert hec.events == []
    assert splunk.dropped >= 1000 - 200

    hec.answering.set()
    splunk.close()
    assert hec.events, "after Splunk answers, the queued events are sent"
    assert "log events were not delivered" in capsys.readouterr().err


def test_a_forked_process_sends_its_own_events(hec, use_logging):
    use_logging(hec.environ())
    logger.info("before the fork", extra={"event": "parent"})
    hec.wait_for(len, "the parent's event")  # the parent's sender thread is running

    child = os.fork()
    if child == 0:  # the child: Celery's pool and gunicorn's workers begin like this
        try:
            logger.info("in the child", extra={"event": "child"})
            logging.shutdown()  # what config/celery.py does as a pool process ends
        finally:
            os._exit(0)
    os.waitpid(child, 0)

    received = hec.wait_for(lambda events: len(events) == 2, "the child's event")
    pids = {item["event"]["event"]: item["event"]["pid"] for item in received}
    assert pids == {"parent": os.getpid(), "child": child}


# A process that logs 50 events and ends at once, configured from the environment as ours are.
LOG_AND_EXIT = """
import logging, logging.config
from config import loader, logs
logging.config.dictConfig(logs.logging_config(loader.load()))
for n in range(50):
    logging.getLogger("videos").info("event %s", n, extra={"event": "exit", "n": n})
"""


def log_and_exit(hec) -> subprocess.CompletedProcess:
    env = {**os.environ, **hec.environ()}
    return subprocess.run([sys.executable, "-c", LOG_AND_EXIT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_events_logged_just_before_the_process_exits_are_sent(hec):
    done = log_and_exit(hec)
    assert done.returncode == 0, done.stderr
    assert sorted(item["event"]["n"] for item in hec.events) == list(range(50))


def test_a_hung_splunk_does_not_keep_the_process_from_exiting(hec):
    hec.answering.clear()
    done = log_and_exit(hec)  # returns: the flush at exit gives up after its bound
    assert done.returncode == 0
    assert "log events were not delivered" in done.stderr


@pytest.mark.e2e
def test_the_web_and_worker_processes_send_events_from_their_forked_children(hec, tmp_path):
    config = {
        key.removeprefix("VIDEOSHARE_").lower(): value for key, value in hec.environ().items()
    }
    service = Service(tmp_path, **config).start()
    web, worker = service.processes["web"].pid, service.processes["worker"].pid
    try:
        assert requests.get(service.url + "/no-such-page/", timeout=10).status_code == 404
        # A task runs in a pool process, which logs its end.
        service.manage(
            "shell", "-c", "from videos.tasks import requeue_stale_videos as t; t.delay()"
        )
        received = hec.wait_for(
            lambda events: {"ready", "succeeded", "not found"} <= set(map(what, events)),
            "the web's and the worker's events",
        )
    finally:
        service.stop()
    ready, succeeded, not_found = (
        next(item["event"] for item in received if what(item) == name)
        for name in ("ready", "succeeded", "not found")
    )
    assert ready["pid"] == worker
    assert succeeded["logger"] == "celery.app.trace"
    assert succeeded["pid"] != worker  # a pool process, forked from the worker
    assert not_found["logger"] == "django.request" and not_found["status_code"] == 404
    assert not_found["pid"] != web  # a gunicorn worker, forked from gunicorn's master


def what(item: dict) -> str:
    message = item["event"]["message"]
    if message.endswith(" ready."):
        return "ready"
    if " succeeded " in message:
        return "succeeded"
    return "not found" if message.startswith("Not Found") else ""
