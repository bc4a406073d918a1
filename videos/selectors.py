import uuid

from django.db.models import QuerySet

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
