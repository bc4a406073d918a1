import logging
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from api.throttles import LimitReached
from contests.banners import banner_prepare
from contests.models import Contest
from videos import files

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "name", "slug", "description", "prize", "rules", "starts_at", "ends_at",
    "max_entries_per_email",
)  # fmt: skip


def contest_create(
    *,
    owner,
    name: str,
    slug: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    prize: str = "",
    rules: str = "",
    banner: UploadedFile | None = None,
    max_entries_per_email: int | None = None,
) -> Contest:
    """Raises ValidationError for bad fields, LimitReached when the account has its most."""
    if Contest.objects.filter(owner=owner).count() >= settings.CONTESTS_PER_ACCOUNT:
        raise LimitReached(
            _("An account can have at most %(count)s contests. Delete one to create another.")
            % {"count": settings.CONTESTS_PER_ACCOUNT},
            retry_after=3600,
        )
    contest = Contest(
        owner=owner,
        name=name,
        slug=slug,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        prize=prize,
        rules=rules,
    )
    if max_entries_per_email is not None:
        contest.max_entries_per_email = max_entries_per_email
    if banner:
        contest.banner = banner_prepare(banner)  # re-encoded, named by us
    contest.full_clean()
    contest.save()
    return contest


def contest_update(*, contest: Contest, banner: UploadedFile | None = None, **fields) -> Contest:
    """Change the given fields (any of EDITABLE_FIELDS) and, optionally, the banner."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    for field, value in fields.items():
        setattr(contest, field, value)
    old_banner_name = contest.banner.name if banner else None
    if banner:
        contest.banner = banner_prepare(banner)  # re-encoded, named by us
    contest.full_clean()
    contest.save()
    if old_banner_name:
        storage = contest.banner.storage
        transaction.on_commit(lambda: _banner_remove(storage, old_banner_name))
    return contest


def _banner_remove(storage, name: str) -> None:
    try:
        files.delete_now([(storage, name)])
    except Exception:
        logger.exception("could not delete the replaced banner %s", name)
    files.cdn_forget(storage, [name])


def contest_delete(*, contest: Contest) -> None:
    """Delete the contest, its entries and every file they stored.

    The files go before the rows are committed, so no file outlives its contest: when storage
    fails, the rows stay and the organizer can try again. CloudFront is then told to forget
    the public ones, so their links stop working at once there too.
    """
    from videos.services import video_stored_files

    with transaction.atomic():
        # Locked as video_submit locks it: no entry joins while the files are listed.
        Contest.objects.select_for_update().filter(id=contest.id).first()
        stored = [(contest.banner.storage, contest.banner.name)] if contest.banner else []
        for video in contest.videos.all():
            stored.extend(video_stored_files(video))
        contest.delete()
        files.delete_now(stored)
    files.cdn_forget(default_storage, [name for _, name in stored])  # the public ones
