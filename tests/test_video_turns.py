"""Contests take turns at the workers: a flood of entries in one contest does not hold another's."""

from datetime import timedelta

from django.utils import timezone

from tests.test_video_jobs import stored_video
from tests.web.helpers import make_contest
from videos import services
from videos.models import Video


def queue(contest, clip, count: int, prefix: str) -> list[Video]:
    return [stored_video(contest, clip, email=f"{prefix}{n}@example.com") for n in range(count)]


def test_one_entry_of_another_contest_goes_next_after_thirty_queued(alice, bob, clips):
    flood = make_contest(alice, "flood")
    other = make_contest(bob, "other")
    queue(flood, clips[".flv"], 30, "f")
    lone = stored_video(other, clips[".flv"], email="lone@example.com")

    first = services.video_convert_next()
    second = services.video_convert_next()
    assert first.contest == flood  # it was waiting first
    assert second.id == lone.id  # then the other contest's turn, not the 29 others
    assert Video.objects.filter(contest=flood, status="queued").count() == 29


def test_a_contest_with_conversions_running_waits_for_one_without(alice, bob, clips):
    flood = make_contest(alice, "flood")
    other = make_contest(bob, "other")
    entries = queue(flood, clips[".flv"], 4, "f")
    # Two workers are busy with the flood's first two entries.
    Video.objects.filter(id__in=[entries[0].id, entries[1].id]).update(
        status="processing",
        attempts=1,
        started_at=timezone.now(),
        claimed_until=timezone.now() + timedelta(minutes=5),
    )
    lone = stored_video(other, clips[".flv"], email="lone@example.com")
    assert services.video_convert_next().id == lone.id


def test_contests_alternate_while_both_have_entries_waiting(alice, bob, clips):
    one = make_contest(alice, "one")
    two = make_contest(bob, "two")
    queue(one, clips[".flv"], 3, "a")
    queue(two, clips[".flv"], 3, "b")
    order = [services.video_convert_next().contest.slug for _ in range(6)]
    assert order == ["one", "two", "one", "two", "one", "two"]
    assert services.video_convert_next() is None


def test_the_message_of_an_entry_converted_by_another_turn_does_nothing(contest, clips):
    video = stored_video(contest, clips[".flv"])
    assert services.video_convert_next(hint=video.id).id == video.id
    assert services.video_convert_next(hint=video.id) is None
    video.refresh_from_db()
    assert (video.status, video.attempts) == ("ready", 1)


def test_an_entry_waiting_for_its_retry_pause_is_not_taken_early(contest, clips):
    video = stored_video(contest, clips[".flv"])
    Video.objects.filter(id=video.id).update(available_at=timezone.now() + timedelta(minutes=1))
    assert services.video_convert_next(hint=video.id) is None
    assert 1 <= services.video_turn_later(video_id=video.id) <= 61  # back after the pause
    Video.objects.filter(id=video.id).update(available_at=timezone.now())
    assert services.video_convert_next(hint=video.id).status == "ready"


def test_a_message_converts_the_entry_whose_turn_it_is(alice, bob, clips, caplog):
    flood = make_contest(alice, "flood")
    other = make_contest(bob, "other")
    first, second = queue(flood, clips[".flv"], 2, "f")
    lone = stored_video(other, clips[".flv"], email="lone@example.com")
    services.video_convert_next(hint=first.id)
    # The flood's second message: the other contest's turn comes first, and the log says so.
    with caplog.at_level("INFO", logger="videos.services"):
        assert services.video_convert_next(hint=second.id).id == lone.id
    (turn,) = [r for r in caplog.records if getattr(r, "event", "") == "job_turn"]
    assert (turn.video_id, turn.message_for) == (str(lone.id), str(second.id))
    assert services.video_convert_next(hint=lone.id).id == second.id
