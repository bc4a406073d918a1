import uuid

from django.db.models import Min, QuerySet
from django.utils import timezone

from contests.models import Contest
from videos.models import Video


def videos_public(*, contest: Contest) -> QuerySet[Video]:
    """Ready, shown entries, newest first: what the contest page lists."""
    return (
        Video.objects.filter(contest=contest, status=Video.Status.READY, hidden=False)
        .select_related("contest")
        .order_by("-created_at", "-id")
    )


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
    if user is not None and user.is_authenticated and video.contest.owner_id == user.id:
        return video
    return None


def video_of_owner(*, user, video_id) -> Video | None:
    video = _video(video_id)
    if video and user is not None and user.is_authenticated and video.contest.owner_id == user.id:
        return video
    return None


def backlog() -> dict[str, int]:
    """What waits in the whole cluster, for the operator: entries to convert, how long the
    oldest has waited, those held up by a failure on our side (a full disk, storage down), and
    emails not sent yet, those held up by the mail server included."""
    Status = Video.Status
    waiting = Video.objects.filter(status__in=[Status.QUEUED, Status.PROCESSING])
    oldest = waiting.aggregate(oldest=Min("created_at"))["oldest"]
    unsent = Video.objects.filter(status__in=[Status.READY, Status.FAILED], notified_at=None)
    return {
        "queued": waiting.filter(status=Status.QUEUED).count(),
        "processing": waiting.filter(status=Status.PROCESSING).count(),
        "oldest_waiting_seconds": round((timezone.now() - oldest).total_seconds()) if oldest else 0,
        "waiting_on_our_side": waiting.exclude(last_error="").count(),
        "emails_unsent": unsent.count(),
        "emails_waiting_on_mail": unsent.exclude(notify_last_error="").count(),
    }


def backlog_reasons(*, limit: int = 3) -> list[str]:
    """The latest failures on our side that entries and emails are waiting out."""
    Status = Video.Status
    waiting = Video.objects.filter(status__in=[Status.QUEUED, Status.PROCESSING])
    unsent = Video.objects.filter(status__in=[Status.READY, Status.FAILED], notified_at=None)
    conversions = waiting.exclude(last_error="").order_by().values_list("last_error", flat=True)
    emails = (
        unsent.exclude(notify_last_error="").order_by().values_list("notify_last_error", flat=True)
    )
    found = [f"conversion: {error}" for error in conversions.distinct()[:limit]]
    return found + [f"email: {error}" for error in emails.distinct()[:limit]]
