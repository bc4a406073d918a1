"""Public pages: home, contest page with its entry form, one video's page."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from api import throttles
from api.serializers import file_url
from contests.forms import EntryForm
from contests.models import Contest
from contests.selectors import contests_open_now
from videos import assets, files, public_list, resumable, selectors, services
from videos.captions import captions_label

THANKS = _("Thank you! We received your video. We will email you as soon as it is ready.")
# What video_submit takes from the entry form, besides the video file.
ENTRY_FIELDS = ("first_name", "last_name", "email", "message", "captions", "captions_language")


def home(request):
    return render(request, "contests/home.html", {"contests": contests_open_now()})


def contest_page(request, slug: str):
    contest = get_object_or_404(Contest, slug=slug)
    form = EntryForm()
    limit = None
    if request.method == "POST":
        form = EntryForm(request.POST, request.FILES)
        try:
            if services.upload_too_large(request.META.get("CONTENT_LENGTH")):
                form.add_error("file", services.too_large_message())
            else:
                throttles.enforce(throttles.UploadsPerNetwork, request)
                if form.is_valid():
                    services.video_submit(
                        contest=contest,
                        upload=form.cleaned_data["file"],
                        **{key: form.cleaned_data[key] for key in ENTRY_FIELDS},
                    )
                    messages.success(request, THANKS)
                    return redirect(contest)
        except throttles.LimitReached as reached:
            form.add_error(None, str(reached.detail))
            limit = reached
        except services.SubmissionRejected as rejection:
            form.add_error(rejection.field, rejection.message)
            if rejection.code == "limit":
                limit = throttles.LimitReached(rejection.message, rejection.retry_after)
    page = contest_videos_page(contest, request.GET.get("page"))
    now = timezone.now()
    context = {
        "contest": contest,
        "form": form,
        "page": page,
        "now": now,
        "state": contest.state(now),
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "resumable": resumable.available(),
        "straight_to_s3": resumable.direct_available(),
        "piece_bytes": resumable.PIECE_BYTES,
        "share_title": contest.name,
        "share_description": contest.description or contest.prize,
        "share_url": contest.public_url(),
        "share_image": file_url(contest.banner),
    }
    if request.method != "POST" and _as_anyone_sees_it(request, page):
        return _contest_page_for_anyone(request, context)
    response = render(request, "contests/contest.html", context)
    return throttles.refused(response, limit) if limit else response


# What anonymous visitors get is the same page for all of them but for the CSRF token of its
# forms: it is rendered once for each version of the contest's list (videos.public_list), page,
# language and state (not open yet, open, closed), with this stand-in for the token, which each
# answer replaces with the visitor's own. Random, so that no entry's text can contain it; one
# per process, as is the cache that holds the pages.
CSRF_STAND_IN = secrets.token_hex(16)


def _as_anyone_sees_it(request, page: Page) -> bool:
    """Nobody logged in, no message to show, and the address asks for this page or none."""
    query = request.META.get("QUERY_STRING", "")
    if query not in ("", f"page={page.number}"):
        return False
    return not request.user.is_authenticated and not messages.get_messages(request)


def _contest_page_for_anyone(request, context: dict) -> HttpResponse:
    contest, state = context["contest"], context["state"]
    html = public_list.public_list_cached(
        contest=contest,
        key=f"page:{get_language()}:{state}:{request.get_full_path()}",
        build=lambda: render_to_string(
            "contests/contest.html", {**context, "csrf_token": CSRF_STAND_IN}, request
        ),
    )
    return HttpResponse(html.replace(CSRF_STAND_IN, get_token(request)))


def contest_videos_page(contest: Contest, asked: str | None) -> Page:
    """The page of the contest's entries a visitor asked for (Paginator.get_page: the first
    for anything but a number, the last past the end). Its object_list is the entries'
    HTML, rendered once for each version of the list and language (videos.public_list)."""
    entries = public_list.PublicListSlices(
        contest=contest,
        key=f"html:{get_language()}",
        build=lambda videos: render_to_string("contests/videos.html", {"videos": videos}),
    )
    return Paginator(entries, public_list.PAGE_SIZE).get_page(asked)


def video_page(request, slug: str, video_id):
    video = selectors.video_visible_to(user=request.user, video_id=video_id)
    if video is None or video.contest.slug != slug:
        return _video_gone(request, slug)
    context = {
        "video": video,
        "contest": video.contest,
        "failure_reason": gettext(video.failure_reason) if video.failure_reason else "",
        "share_title": f"{video.participant_name} — {video.contest.name}",
        "share_description": video.message or video.contest.name,
        "share_url": settings.WEB_URL + video.get_absolute_url(),
        "share_image": file_url(video.poster),
        "share_video": file_url(video.converted),
        "captions_label": captions_label(video.captions_language),
        # None for a hidden entry (the organizer's view): it plays the MP4 alone.
        "stream_url": assets.stream_url(video),
        "storyboard_url": assets.storyboard_url(video),
    }
    return render(request, "contests/video.html", context)


def _video_gone(request, slug: str) -> HttpResponse:
    """A hidden, deleted or unknown entry of a contest: one 404 for all (nothing tells them
    apart), pointing to the contest, whose page is public."""
    contest = get_object_or_404(Contest, slug=slug)
    return render(request, "404.html", {"contest": contest}, status=404)


def video_captions(request, slug: str, video_id):
    """An entry's captions (WebVTT), for its page's <track>: as its page, public once the entry
    is, and for its organizer while it is hidden."""
    video = selectors.video_visible_to(user=request.user, video_id=video_id)
    if video is None or video.contest.slug != slug or not video.captions:
        raise Http404
    response = HttpResponse(video.captions, content_type="text/vtt; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    # A hidden entry's must not stay in a shared cache once the organizer is done with it.
    response["Cache-Control"] = "public, max-age=300" if video.is_public else "private, no-cache"
    return response


def media(request, path: str):
    return files.public_media(request, path)
