"""Logs on stdout: one JSON object a line, with the product events' fields."""

import json
import logging

from django.core.files import File

from tests.test_api_videos import entry
from videos import services
from videos.models import Video


def lines(handlers) -> list[dict]:
    return [json.loads(line) for line in handlers["console"].stream.getvalue().splitlines()]


def test_each_line_is_a_json_object_with_time_level_logger_message_and_fields(use_logging):
    handlers = use_logging({})
    logging.getLogger("videos.services").warning(
        "attempt failed: video %s", "v1", extra={"event": "attempt_failed", "attempt": 2}
    )
    (line,) = lines(handlers)
    assert line["time"].endswith("+00:00")
    assert line["level"] == "WARNING"
    assert line["logger"] == "videos.services"
    assert line["message"] == "attempt failed: video v1"
    assert (line["event"], line["attempt"]) == ("attempt_failed", 2)


def test_an_exception_is_kept_in_the_line(use_logging):
    handlers = use_logging({})
    try:
        raise OSError("disk full")
    except OSError:
        logging.getLogger("videos.services").exception("could not delete %s", "a.mp4")
    (line,) = lines(handlers)
    assert line["level"] == "ERROR"
    assert "OSError: disk full" in line["error"]


def test_without_the_splunk_keys_logs_go_to_stdout_only(use_logging):
    assert set(use_logging({"VIDEOSHARE_SPLUNK_API_URL": "splunk.example.com"})) == {"console"}


def test_an_upload_its_conversion_and_the_email_are_events(
    use_logging, api, contest, clips, mailoutbox
):
    handlers = use_logging({})
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".flv"]))
    video_id = response.json()["id"]
    services.video_convert(video_id=video_id)
    services.participant_notify(video_id=video_id)

    events = {line["event"]: line for line in lines(handlers) if "event" in line}
    assert list(events) == ["upload_received", "job_started", "video_converted", "email_sent"]
    upload = events["upload_received"]
    assert upload["message"].startswith(f"upload received: video {video_id}")
    assert (upload["video_id"], upload["contest"]) == (video_id, "summer-shorts")
    assert upload["size"] == clips[".flv"].stat().st_size
    assert events["job_started"]["attempt"] == 1
    converted = events["video_converted"]
    assert converted["status"] == "ready" and converted["seconds"] > 0
    assert events["email_sent"]["status"] == "ready"


def test_a_failed_conversion_says_why_and_how_long_it_took(use_logging, contest, clips):
    handlers = use_logging({})
    video = Video(contest=contest, first_name="Ana", last_name="Diaz", email="ana@example.com")
    with open(clips["damaged"], "rb") as handle:
        video.original.save(f"originals/{video.id}.avi", File(handle))
    services.video_convert(video_id=video.id)

    events = {line["event"]: line for line in lines(handlers) if "event" in line}
    assert list(events) == ["job_started", "attempt_failed", "video_failed"]
    attempt = events["attempt_failed"]
    assert attempt["level"] == "WARNING" and attempt["permanent"] is True
    assert attempt["seconds"] >= 0 and attempt["reason"]
    failed = events["video_failed"]
    assert failed["status"] == "failed" and failed["reason"] == attempt["reason"]
