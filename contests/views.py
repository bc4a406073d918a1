"""Public pages: home, contest page with its entry form, one video's page."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from api import throttles
from api.serializers import file_url
from contests.forms import EntryForm
from contests.models import Contest
from contests.selectors import contests_open_now
from videos import files, selectors, services

THANKS = _("Thank you! We received your video. We will email you as soon as it is ready.")


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
                        **{
                            key: form.cleaned_data[key]
                            for key in ("first_name", "last_name", "email", "message")
                        },
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
    page = Paginator(selectors.videos_public(contest=contest), 50).get_page(request.GET.get("page"))
    context = {
        "contest": contest,
        "form": form,
        "page": page,
        "now": timezone.now(),
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "share_title": contest.name,
        "share_description": contest.description or contest.prize,
        "share_url": contest.public_url(),
        "share_image": file_url(contest.banner),
    }
    response = render(request, "contests/contest.html", context)
    return throttles.refused(response, limit) if limit else response


def video_page(request, slug: str, video_id):
    video = selectors.video_visible_to(user=request.user, video_id=video_id)
    if video is None or video.contest.slug != slug:
        raise Http404
    context = {
        "video": video,
        "contest": video.contest,
        "failure_reason": gettext(video.failure_reason) if video.failure_reason else "",
        "share_title": f"{video.participant_name} — {video.contest.name}",
        "share_description": video.message or video.contest.name,
        "share_url": settings.WEB_URL + video.get_absolute_url(),
        "share_image": file_url(video.poster),
        "share_video": file_url(video.converted),
    }
    return render(request, "contests/video.html", context)


def media(request, path: str):
    return files.public_media(request, path)
