import uuid

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from contests.models import Contest
from videos.models import Video


def videos_public(*, contest: Contest) -> QuerySet[Video]:
    """Ready, shown entries, newest first: what the contest page lists. Read in the order of
    the index video_list_by_status, a page at a time, never sorted whole; through
    contest.videos each entry has its contest without a join."""
    return contest.videos.filter(status=Video.Status.READY, hidden=False).order_by(
        "-created_at", "-id"
    )


class PagedByIds:
    """A contest's list of entries as Django's Paginator (and so DRF's pagination) reads it:
    its count, and pages read in two steps. First the page's ids, which the list's index gives
    alone (video_list_by_status, video_list: they hold the order, the filters and the id),
    stepping over the entries before the page without reading them; then those entries by
    primary key. Read whole, a deep page costs PostgreSQL a sort of every entry of the contest
    (spilled to disk at 10,000), and SQLite and MariaDB a read of each entry it skips."""

    def __init__(self, entries: QuerySet[Video], *, contest: Contest):
        self.entries = entries
        self.contest = contest

    def count(self) -> int:
        return self.entries.count()

    def __getitem__(self, page: slice) -> list[Video]:
        ids = list(self.entries.values_list("pk", flat=True)[page])
        # By primary key alone: with the list's filters, or joined to the contest, SQLite and
        # MariaDB would rather scan the contest's entries.
        found = Video.objects.order_by().in_bulk(ids)
        for video in found.values():
            video.contest = self.contest
        return [found[pk] for pk in ids if pk in found]


def videos_of_contest(*, contest: Contest, status: str | None = None) -> QuerySet[Video]:
    """Every entry, for the contest's organizer."""
    entries = Video.objects.filter(contest=contest).select_related("contest")
    if status:
        entries = entries.filter(status=status)
    return entries.order_by("-created_at", "-id")


def _video(video_id) -> Video | None:
    try:
        video_id = uuid.UUID(str(video_id))
    except ValueError:
        return None
    return Video.objects.select_related("contest").filter(id=video_id).first()


def video_visible_to(*, user, video_id) -> Video | None:
    """The entry if the public may see it, or if `user` organizes its contest."""
    video = _video(video_id)
    if video is None:
        return None
    if video.is_public:
        return video
    if video.contest.is_organized_by(user):
        return video
    return None


def video_of_owner(*, user, video_id) -> Video | None:
    video = _video(video_id)
    if video and video.contest.is_organized_by(user):
        return video
    return None


def videos_waiting() -> QuerySet[Video]:
    """Entries not converted yet: queued, or being converted."""
    return Video.objects.filter(status__in=[Video.Status.QUEUED, Video.Status.PROCESSING])


def videos_unsent() -> QuerySet[Video]:
    """Finished entries whose email has not gone out (nor been given up)."""
    return Video.objects.filter(
        status__in=[Video.Status.READY, Video.Status.FAILED], notified_at=None
    )


def backlog() -> dict[str, int]:
    """What waits in the whole cluster, for the operator: entries to convert, how long the
    oldest has waited, those held up by a failure on our side (a full disk, storage down),
    emails not sent yet, those held up by the mail server included, and streams to make."""
    waiting = videos_waiting().aggregate(
        queued=Count("id", filter=Q(status=Video.Status.QUEUED)),
        processing=Count("id", filter=Q(status=Video.Status.PROCESSING)),
        waiting_on_our_side=Count("id", filter=~Q(last_error="")),
        oldest=Min("created_at"),
    )
    unsent = videos_unsent().aggregate(
        emails_unsent=Count("id"),
        emails_waiting_on_mail=Count("id", filter=~Q(notify_last_error="")),
    )
    oldest = waiting.pop("oldest")
    waited = round((timezone.now() - oldest).total_seconds()) if oldest else 0
    # Ready entries whose HLS stream and storyboard are still to be made (they play their MP4).
    streams = Video.objects.filter(
        status=Video.Status.READY, streams_status=Video.StreamsStatus.PENDING
    ).count()
    return {**waiting, "oldest_waiting_seconds": waited, **unsent, "streams_pending": streams}


def backlog_reasons(*, limit: int = 3) -> list[str]:
    """The latest failures on our side that entries and emails are waiting out."""
    conversions = videos_waiting().exclude(last_error="").order_by()
    emails = videos_unsent().exclude(notify_last_error="").order_by()
    conversion_errors = conversions.values_list("last_error", flat=True).distinct()[:limit]
    email_errors = emails.values_list("notify_last_error", flat=True).distinct()[:limit]
    return [f"conversion: {error}" for error in conversion_errors] + [
        f"email: {error}" for error in email_errors
    ]
