from django.db.models import QuerySet
from django.utils import timezone

from contests.models import Contest


def contests_open_now() -> QuerySet[Contest]:
    now = timezone.now()
    return Contest.objects.filter(starts_at__lte=now, ends_at__gt=now).order_by("ends_at")


def contests_of_owner(*, owner) -> QuerySet[Contest]:
    return Contest.objects.filter(owner=owner).order_by("-created_at")


def contest_of_owner(*, owner, slug: str) -> Contest | None:
    """The contest when `owner` owns it, else None (others must not learn it exists)."""
    if not owner or not owner.is_authenticated:
        return None
    return Contest.objects.filter(owner=owner, slug=slug).first()
