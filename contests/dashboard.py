"""The organizer's pages: own contests, their entries, moderation."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api import throttles
from api.serializers import file_url
from contests import selectors, services
from contests.forms import CaptionsForm, ContestForm
from contests.models import Contest
from videos import files
from videos import selectors as video_selectors
from videos import services as video_services
from videos.captions import captions_read
from videos.models import Video


def is_uuid(value: str) -> bool:
    """An entry's id; anything else names no entry (and would fail the query)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def owned_contest(request, slug: str):
    contest = selectors.contest_of_owner(owner=request.user, slug=slug)
    if contest is None:
        raise Http404("No such contest.")
    return contest


@login_required
def dashboard(request):
    return render(
        request,
        "dashboard/home.html",
        {"contests": selectors.contests_of_owner(owner=request.user)},
    )


@login_required
def contest_new(request):
    form = ContestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            contest = services.contest_create(
                owner=request.user, **{k: v for k, v in data.items() if v is not None}
            )
        except throttles.LimitReached as limit:
            form.add_error(None, str(limit.detail))
            page = render(request, "dashboard/contest_form.html", {"form": form})
            return throttles.refused(page, limit)
        messages.success(
            request, _("Contest created. Its page is %(url)s") % {"url": contest.public_url()}
        )
        return redirect("dashboard-contest", slug=contest.slug)
    return render(request, "dashboard/contest_form.html", {"form": form})


@login_required
def contest_edit(request, slug: str):
    contest = owned_contest(request, slug)
    # The form checks its own copy: binding it to `contest` would put the new banner there
    # before contest_update notes the old one, which then stays in storage for good.
    copy = Contest.objects.get(pk=contest.pk)
    form = ContestForm(request.POST or None, request.FILES or None, instance=copy)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        banner = request.FILES.get("banner")
        contest = services.contest_update(contest=contest, banner=banner, **fields)
        messages.success(request, _("Contest saved."))
        return redirect("dashboard-contest", slug=contest.slug)
    return render(request, "dashboard/contest_form.html", {"form": form, "contest": contest})


@login_required
def contest_delete(request, slug: str):
    contest = owned_contest(request, slug)
    if request.method == "POST":
        services.contest_delete(contest=contest)
        messages.success(request, _("Contest “%(name)s” deleted.") % {"name": contest.name})
        return redirect("dashboard")
    return render(request, "dashboard/contest_delete.html", {"contest": contest})


@login_required
def contest_entries(request, slug: str):
    contest = owned_contest(request, slug)
    refused = None  # the captions form of the entry whose captions were refused
    if request.method == "POST":
        refused = _entry_captions(request, contest)
        if refused is None:
            return redirect(request.get_full_path())  # the same filter and page
    status = request.GET.get("status") or None
    entries = video_selectors.videos_of_contest(contest=contest, status=status)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/entries.html",
        {
            "contest": contest,
            "page": page,
            "status": status,
            "statuses": Video.Status.choices,
            "captions_form": refused,
        },
    )


def _entry_captions(request, contest: Contest) -> CaptionsForm | None:
    """Set, replace or remove an entry's captions (its row's forms on the entries page); the
    form with its errors when refused, else None."""
    video = video_selectors.video_of_owner(user=request.user, video_id=request.POST.get("video"))
    if video is None or video.contest_id != contest.id:
        raise Http404("No such video.")
    if request.POST.get("remove"):
        video_services.video_clear_captions(video=video)
        messages.success(request, _("Captions removed."))
        return None
    form = CaptionsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            video_services.video_set_captions(
                video=video,
                content=captions_read(form.cleaned_data["file"]),
                language=form.cleaned_data["language"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # by field: file, language
        else:
            messages.success(request, _("Captions saved."))
            return None
    form.video_id = video.id  # which row shows the errors
    return form


@login_required
def contest_entry_states(request, slug: str):
    """States of the listed entries, polled by the entries page to update itself live."""
    contest = owned_contest(request, slug)
    ids = [value for value in request.GET.get("ids", "").split(",") if is_uuid(value)][:100]
    entries = video_selectors.videos_of_contest(contest=contest).filter(id__in=ids)
    states = {
        str(video.id): {
            "status": video.status,
            "label": str(video.get_status_display()),
            "failure_reason": gettext(video.failure_reason) if video.failure_reason else "",
            "poster_url": file_url(video.poster),
            "video_url": file_url(video.converted),
            "width": video.width,
            "height": video.height,
            "duration": video.duration,
        }
        for video in entries
    }
    # The count lets the page notice new entries and show them.
    count = video_selectors.videos_of_contest(
        contest=contest, status=request.GET.get("status") or None
    ).count()
    return JsonResponse({"entries": states, "count": count})


@login_required
@require_POST
def video_visibility(request, video_id):
    video = video_selectors.video_of_owner(user=request.user, video_id=video_id)
    if video is None:
        raise Http404("No such video.")
    hidden = request.POST.get("hidden") == "1"
    video_services.video_set_hidden(video=video, hidden=hidden)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("dashboard-contest", args=[video.contest.slug])
    if hidden:
        # The message carries its own Undo form (a safe string, kept so by the messages storage).
        undo = render_to_string(
            "dashboard/hidden_message.html", {"video": video, "next": next_url}, request
        )
        messages.success(request, undo)
    else:
        messages.success(request, _("Entry shown."))
    return redirect(next_url)


@login_required
def video_original(request, video_id):
    video = video_selectors.video_of_owner(user=request.user, video_id=video_id)
    if video is None:
        raise Http404("No such video.")
    return files.original_download(video)
