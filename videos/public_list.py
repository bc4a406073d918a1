"""A contest's public list of entries (its page and the API's list), kept ready in each web
process.

Rendering 50 entries costs far more than reading them, so each page of the list is kept, once
rendered, in the "pages" cache (each process's memory) under a key that holds the contest's
`updated_at`. Whatever changes what the list shows moves `updated_at` on in the same
transaction: an entry becoming ready, hidden or shown (public_list_changed, called by those
services) and an edit of the contest (its save). Every process reads the contest's row on each
request anyway, so the next request anywhere finds a new key and renders the list afresh; keys
of old versions are never asked for again and leave the cache after CACHE_SECONDS, which also
bounds how long a change made some other way (the admin site) takes to show.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import caches
from django.utils import timezone

from contests.models import Contest
from videos import selectors
from videos.models import Video

PAGE_SIZE = 50
CACHE = "pages"
CACHE_SECONDS = 300

T = TypeVar("T")


def public_list_changed(*, contest_id: int) -> None:
    """What the contest's public list shows changes: every process renders it afresh. Call it
    inside the transaction of the change, so that whoever reads the new version of the list
    also reads the change, and before the entry's row is locked: the contest's row first, then
    its entries', the order video_submit and contest_delete lock them in (no deadlock)."""
    Contest.objects.filter(id=contest_id).update(updated_at=timezone.now())


def public_list_cached(*, contest: Contest, key: str, build: Callable[[], T]) -> T:
    """`build()`'s value for this version of the contest's list, built once per process."""
    full_key = f"public-list:{contest.pk}:{contest.updated_at.isoformat()}:{key}"
    cache = caches[CACHE]
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, CACHE_SECONDS)
    return value


def public_list_count(*, contest: Contest) -> int:
    return public_list_cached(
        contest=contest,
        key="count",
        build=lambda: selectors.videos_public(contest=contest).count(),
    )


class PublicListSlices(Generic[T]):
    """The public list as Django's Paginator, and so DRF's page pagination, reads it: count()
    and slices, both from the cache. A slice is `build` applied to those entries (a list of
    model instances), e.g. their rendered HTML or their serialized data; `key` tells one kind
    of slice from another (and its language, when it has words)."""

    def __init__(self, *, contest: Contest, key: str, build: Callable[[list[Video]], T]):
        self.contest = contest
        self.key = key
        self.build = build

    def count(self) -> int:
        return public_list_count(contest=self.contest)

    def __getitem__(self, entries: slice) -> T:
        return public_list_cached(
            contest=self.contest,
            key=f"{self.key}:{entries.start}:{entries.stop}",
            build=lambda: self.build(
                selectors.PagedByIds(
                    selectors.videos_public(contest=self.contest), contest=self.contest
                )[entries]
            ),
        )
