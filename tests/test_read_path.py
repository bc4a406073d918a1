"""The lists of a contest's entries are read through their indexes on every database: a page
is found in the index's order, never by sorting the contest."""

import pytest
from django.db import connection

from tests.web.helpers import big_contest_entries
from videos import selectors
from videos.models import Video


@pytest.fixture
def big_contest(contest):
    """10,000 ready, shown entries, plus hidden and failed ones the public never sees."""
    big_contest_entries(contest, 10_000, 50)
    return contest


def plan(queryset) -> str:
    return queryset.explain()


def assert_read_in_index_order(queryset, *indexes: str) -> None:
    """The page's ids are read from one of `indexes`, in its order: no sort."""
    if connection.vendor == "sqlite":
        found = plan(queryset)
        assert any(f"USING COVERING INDEX {index} " in found for index in indexes), found
        assert "TEMP B-TREE" not in found, found
    elif connection.vendor == "postgresql":
        # Whether PostgreSQL scans an index or sorts a deep page depends on its statistics
        # and visibility map (once vacuumed: an index-only scan, see docs/PERFORMANCE.md);
        # with sorting ruled out, a plan without Sort shows that an index gives the order.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE videos_video")
            cursor.execute("SET LOCAL enable_sort = off")
        found = plan(queryset)
        assert any(f"using {index} on" in found for index in indexes), found
        assert "Sort" not in found, found
    else:  # MySQL / MariaDB
        found = plan(queryset)
        assert any(f" {index} " in found for index in indexes), found
        assert "Using index" in found and "filesort" not in found, found


def test_a_page_of_the_public_list_is_found_in_its_index(big_contest):
    ids = selectors.videos_public(contest=big_contest).values_list("pk", flat=True)
    # PostgreSQL may take the contest's index and check status and hidden as it goes.
    assert_read_in_index_order(ids[:50], "video_list_by_status", "video_list")
    assert_read_in_index_order(ids[9950:10000], "video_list_by_status", "video_list")
    public = selectors.PagedByIds(selectors.videos_public(contest=big_contest), contest=big_contest)
    assert len(public[9950:]) == 50


def test_a_page_of_the_organizers_lists_is_found_in_their_indexes(big_contest):
    every = selectors.videos_of_contest(contest=big_contest).values_list("pk", flat=True)
    assert_read_in_index_order(every[10050:10100], "video_list")
    failed = selectors.videos_of_contest(contest=big_contest, status="failed")
    assert_read_in_index_order(failed.values_list("pk", flat=True)[:50], "video_list_by_status")


def test_a_deep_page_is_read_by_id_once_found(big_contest):
    every = selectors.videos_of_contest(contest=big_contest)
    entries = selectors.PagedByIds(every, contest=big_contest)
    page = entries[10050:10100]
    assert entries.count() == 10_100 and len(page) == 50
    rows = Video.objects.order_by().filter(pk__in=[video.pk for video in page])
    found = plan(rows)
    primary_key = {"sqlite": "sqlite_autoindex_videos_video_1", "postgresql": "videos_video_pkey"}
    assert primary_key.get(connection.vendor, "PRIMARY") in found, found
    assert "video_list" not in found, found  # not a scan of the contest's entries
