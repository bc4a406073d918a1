"""The JSON API under /api/v1/: validate, call one service, shape the answer."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, parser_classes
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts import services as account_services
from api import serializers as s
from api import throttles
from api.auth import TokenEndpointAuthentication
from api.errors import error_response
from api.schema import error
from contests import selectors as contest_selectors
from contests import services as contest_services
from contests.forms import CaptionsForm, EntryCheckForm, EntryForm
from contests.models import Contest
from videos import files, public_list, selectors, services
from videos.captions import captions_read
from videos.models import Video

SUBMISSION_STATUS = {
    "closed": status.HTTP_409_CONFLICT,
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "not_video": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "incomplete": status.HTTP_422_UNPROCESSABLE_ENTITY,  # a file cut short
    "media_limit": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "limit": status.HTTP_429_TOO_MANY_REQUESTS,
    "invalid": status.HTTP_400_BAD_REQUEST,
}


# The schema's words for what several operations share.
ORGANIZER = [{"bearerAuth": []}]  # a token is required
SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The contest's address.")
VIDEO_ID = OpenApiParameter("video_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
NOT_YOURS = error("No contest of the caller's has this address.")
PAGE_NOT_FOUND = error("The page is past the last.")


class Pages(PageNumberPagination):
    page_size = public_list.PAGE_SIZE  # the contest page's too: the same kept slices


def paginated(request, queryset, serializer_class):
    pages = Pages()
    page = pages.paginate_queryset(queryset, request)
    return pages.get_paginated_response(serializer_class(page, many=True).data)


def listed_in_pages(view):
    """The schema shows the view's list as `paginated` answers it: a page of `results` with
    `count`, `next` and `previous`, and the `page` parameter."""
    view.cls.pagination_class = Pages
    return view


def require_organizer(request) -> None:
    """401 (with WWW-Authenticate: Bearer) unless a token came with the request."""
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("Authentication required: send Authorization: Bearer <token>."))


# ---------------------------------------------------------------- accounts


@extend_schema(
    request=s.OrganizerCreateSerializer,
    responses={
        201: s.SignUpSerializer,
        429: error("Too many sign-ups from the client's network this hour."),
    },
    description="Creates the account and emails a link that confirms the address "
    "(POST /organizers/confirm). Until then the organizer's contests take no entries. "
    "When the address already has an account, its owner is emailed instead; the answer is "
    "the same either way, so it tells nobody who has an account.",
)
@api_view(["POST"])
def organizers(request):
    throttles.enforce(throttles.SignupsPerNetwork, request)
    data = s.OrganizerCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    account_services.organizer_sign_up(**data.validated_data)
    email = account_services.normalize_email(data.validated_data["email"])
    detail = gettext(
        "Check your email: we sent a message to %(email)s. Open the link in it to confirm "
        "your address."
    ) % {"email": email}
    answer = {"id": None, "name": data.validated_data["name"].strip(), "email": email,
              "email_confirmed": False, "detail": detail}  # fmt: skip
    return Response(s.SignUpSerializer(answer).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=s.ConfirmationRequestSerializer,
    responses={
        200: s.OrganizerSerializer,
        400: error("The token is wrong, used or expired: `errors.token` says which."),
    },
    description="Confirms the address with the token from the emailed link "
    "(<web_url>/accounts/confirm/<token>/). A token works once, for 3 days.",
)
@api_view(["POST"])
def organizer_confirm(request):
    data = s.ConfirmationRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        user = account_services.organizer_confirm_email(token=data.validated_data["token"])
    except DjangoValidationError as error:
        return error_response(error.messages[0], status.HTTP_400_BAD_REQUEST, "token")
    return Response(s.OrganizerSerializer(user).data)


@extend_schema(
    request=None,
    auth=ORGANIZER,
    responses={
        202: s.MessageSerializer,
        401: error("No token, or a wrong or expired one."),
        409: error("The address is confirmed already."),
        429: error("A link was sent a few minutes ago."),
    },
    description="Emails the confirmation link again: 409 once confirmed; at most one email "
    "every few minutes (429 with Retry-After).",
)
@api_view(["POST"])
def organizer_confirmation_email(request):
    if refusal := require_organizer(request):
        return refusal
    try:
        account_services.organizer_confirmation_email_send(user=request.user)
    except DjangoValidationError as error:
        return error_response(error.messages[0], status.HTTP_409_CONFLICT)
    message = gettext("We sent a new link to %(email)s.") % {"email": request.user.email}
    return Response({"detail": message}, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    methods=["POST"],
    request=s.TokenRequestSerializer,
    responses={
        200: s.TokenSerializer,
        401: error("Wrong email or password."),
        429: error("Too many failed log-ins for this address or from this network."),
    },
    description="The organizer's token: the same one while it is valid, a new one once it "
    "expired or was revoked. Failed attempts are limited per address and per network: "
    "beyond, 429 with Retry-After, even with the right password.",
    auth=[],  # the email and password are the credentials; a token sent along is ignored
)
@extend_schema(
    methods=["DELETE"],
    request=None,
    responses={204: None, 401: error("No token, or a wrong, expired or revoked one.")},
    description="Revokes the token sent in Authorization: it stops working at once.",
    auth=[{"bearerAuth": []}],
)
@api_view(["POST", "DELETE"])
@authentication_classes([TokenEndpointAuthentication])
def auth_token(request):
    if request.method == "DELETE":
        require_organizer(request)
        account_services.api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = s.TokenRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = account_services.organizer_authenticate(
        request=request,
        email=data.validated_data["email"],
        password=data.validated_data["password"],
    )
    if user is None:
        response = error_response("Wrong email or password.", status.HTTP_401_UNAUTHORIZED)
        response["WWW-Authenticate"] = "Bearer"
        return response
    token = account_services.api_token_issue(user=user)
    expires_at = account_services.api_token_expires_at(token)
    return Response(s.TokenSerializer({"token": token.key, "expires_at": expires_at}).data)


# ---------------------------------------------------------------- contests


@extend_schema(
    methods=["GET"],
    summary="The organizer's own contests",
    auth=ORGANIZER,
    responses={200: s.ContestSerializer(many=True), 404: PAGE_NOT_FOUND},
)
@extend_schema(
    methods=["POST"],
    summary="Create a contest",
    description="JSON, or multipart with a `banner` image.",
    auth=ORGANIZER,
    request=s.ContestWriteSerializer,
    responses={
        201: s.ContestSerializer,
        429: error("The account has its most contests (contests_per_account)."),
    },
)
@listed_in_pages
@api_view(["GET", "POST"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def contests(request):
    require_organizer(request)
    if request.method == "GET":
        owned = contest_selectors.contests_of_owner(owner=request.user)
        return paginated(request, owned, s.ContestSerializer)
    data = s.ContestWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    contest = contest_services.contest_create(owner=request.user, **data.validated_data)
    return Response(s.ContestSerializer(contest).data, status=status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    summary="A contest's public facts",
    parameters=[SLUG],
    responses={200: s.ContestSerializer, 404: error("No contest has this address.")},
)
@extend_schema(
    methods=["PATCH"],
    summary="Change a contest (its owner)",
    description="Any of the fields; JSON, or multipart with a new `banner` image.",
    auth=ORGANIZER,
    parameters=[SLUG],
    request=s.ContestWriteSerializer,
    responses={200: s.ContestSerializer, 404: NOT_YOURS},
)
@extend_schema(
    methods=["DELETE"],
    summary="Delete a contest, its entries and their files (its owner)",
    auth=ORGANIZER,
    parameters=[SLUG],
    responses={204: None, 404: NOT_YOURS},
)
@api_view(["GET", "PATCH", "DELETE"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def contest_detail(request, slug: str):
    if request.method == "GET":
        contest = get_object_or_404(Contest, slug=slug)
        return Response(s.ContestSerializer(contest).data)
    require_organizer(request)
    contest = contest_selectors.contest_of_owner(owner=request.user, slug=slug)
    if contest is None:
        raise NotFound()
    if request.method == "DELETE":
        contest_services.contest_delete(contest=contest)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = s.ContestWriteSerializer(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    banner = fields.pop("banner", None)
    contest = contest_services.contest_update(contest=contest, banner=banner, **fields)
    return Response(s.ContestSerializer(contest).data)


# ---------------------------------------------------------------- videos


@extend_schema(
    methods=["GET"],
    summary="A contest's entries",
    description="Anyone: the ready, shown entries, newest first. The contest's owner: every "
    "entry, with the fields of VideoOwner (status, email, original_url...).",
    parameters=[
        SLUG,
        OpenApiParameter("status", str, description="contest owner only", enum=Video.Status.values),
    ],
    responses={
        200: s.VideoPublicSerializer(many=True),
        404: error("No contest has this address, or the page is past the last."),
    },
)
@extend_schema(
    methods=["POST"],
    summary="Enter a video (anyone)",
    description="Multipart, with the video in `file`. The answer comes once the file is "
    "stored and queued; the participant is emailed when it is converted.",
    parameters=[SLUG],
    request={"multipart/form-data": s.VideoSubmitSerializer},
    responses={
        202: s.VideoAcceptedSerializer,
        404: error("No contest has this address."),
        409: error("The contest is not open, or its organizer has not confirmed their email."),
        413: error("The file is larger than max_upload_mb."),
        415: error("The file is not a video (decided from its content, not its name)."),
        422: error("The video is over a media limit (length, size, streams, frame rate)."),
        429: error(
            "Over a limit: the contest's entries per email address, its storage, or the uploads "
            "from one network an hour."
        ),
    },
)
@listed_in_pages
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser])
def contest_videos(request, slug: str):
    contest = get_object_or_404(Contest, slug=slug)
    if request.method == "POST":
        return submit_video(request, contest)
    if contest.is_organized_by(request.user):
        entries = selectors.videos_of_contest(
            contest=contest, status=request.query_params.get("status")
        )
        entries = selectors.PagedByIds(entries, contest=contest)
        return paginated(request, entries, s.VideoOwnerSerializer)
    # The public list: its count and its pages, serialized, come from the cache.
    public = public_list.PublicListSlices(
        contest=contest,
        key="api",
        build=lambda videos: list(s.VideoPublicSerializer(videos, many=True).data),
    )
    pages = Pages()
    return pages.get_paginated_response(pages.paginate_queryset(public, request))


@extend_schema(
    summary="Check an entry before sending its video (anyone)",
    description="The fields of an upload, with the video's `file_name`, `file_size` and "
    "`file_type` in place of the file: every check an upload makes before it reads the video "
    "(the contest is open, the fields, the participant's entries, the contest's storage, the "
    "size), with every field's errors at once. JSON, or multipart with `captions`. Nothing is "
    "stored; the upload checks everything again, and the video's content too.",
    parameters=[SLUG],
    request={
        "application/json": s.VideoCheckSerializer,
        "multipart/form-data": s.VideoCheckSerializer,
    },  # fmt: skip
    responses={
        200: s.MessageSerializer,
        400: error(
            "Fields were refused: `errors` has every field's messages (the video's "
            "name, size or type under `file`)."
        ),  # fmt: skip
        404: error("No contest has this address."),
        409: error("The contest is not open, or its organizer has not confirmed their email."),
    },
)
@api_view(["POST"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def contest_video_check(request, slug: str):
    contest = get_object_or_404(Contest, slug=slug)
    form, errors = entry_check_form(request)
    size = form.cleaned_data.get("file_size") if "file" not in errors else None
    try:
        refused = services.video_check(
            contest=contest,
            size=size,
            **{field: form.cleaned_data.get(field) or "" for field in CHECKED_FIELDS},
            captions=form.cleaned_data.get("captions"),
        )
    except services.SubmissionRejected as rejection:
        return error_response(rejection.message, SUBMISSION_STATUS[rejection.code])
    for field, messages in refused.items():
        errors.setdefault(field, messages)  # the form's words first, as an upload answers
    if errors:
        raise ValidationError(errors)
    return Response({"detail": gettext("Everything is ready: the video can be sent.")})


def entry_check_form(request) -> tuple[EntryCheckForm, dict[str, list[str]]]:
    """The entry form's check of an upload's fields without its video; the errors by field,
    the video's name, size and type under `file`."""
    form = EntryCheckForm(request.data, request.FILES)
    form.is_valid()
    errors: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        errors.setdefault("file" if field.startswith("file_") else field, []).extend(messages)
    return form, errors


# The entry's texts, as EntryForm cleans them, for video_check.
CHECKED_FIELDS = ("first_name", "last_name", "email", "message", "captions_language")


def submit_video(request, contest: Contest) -> Response:
    if services.upload_too_large(request.META.get("CONTENT_LENGTH")):
        return error_response(services.too_large_message(), 413, "file")
    throttles.enforce(throttles.UploadsPerNetwork, request)
    # The contest page's form: one check of the fields, in one set of words, for both.
    form = EntryForm(request.data, request.FILES)
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    fields = ("first_name", "last_name", "email", "message", "captions", "captions_language")
    try:
        video = services.video_submit(
            contest=contest,
            upload=form.cleaned_data["file"],
            **{field: form.cleaned_data[field] for field in fields},
        )
    except services.SubmissionRejected as rejection:
        response = error_response(
            rejection.message, SUBMISSION_STATUS[rejection.code], rejection.field
        )
        if rejection.retry_after:
            response["Retry-After"] = str(math.ceil(rejection.retry_after))
        return response
    return Response(s.VideoAcceptedSerializer(video).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    methods=["GET"],
    summary="One entry",
    description="Anyone: a ready, shown entry. The contest's owner: any of its entries, with "
    "the fields of VideoOwner.",
    parameters=[VIDEO_ID],
    responses={
        200: s.VideoPublicSerializer,
        404: error("No such entry, or not one the caller may see (not ready, hidden)."),
    },
)
@extend_schema(
    methods=["PATCH"],
    summary="Hide or show an entry (the contest's owner)",
    auth=ORGANIZER,
    parameters=[VIDEO_ID],
    request=s.VideoUpdateSerializer,
    responses={200: s.VideoOwnerSerializer, 404: error("No such entry in the caller's contests.")},
)
@api_view(["GET", "PATCH"])
def video_detail(request, video_id):
    video = selectors.video_visible_to(user=request.user, video_id=video_id)
    if video is None:
        raise NotFound()
    is_owner = video.contest.is_organized_by(request.user)
    if request.method == "PATCH":
        if not is_owner:
            raise NotFound()
        data = s.VideoUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.video_set_hidden(video=video, hidden=data.validated_data["hidden"])
    serializer = s.VideoOwnerSerializer if is_owner else s.VideoPublicSerializer
    return Response(serializer(video).data)


@extend_schema(
    summary="An entry's file as uploaded (the contest's owner)",
    auth=ORGANIZER,
    parameters=[VIDEO_ID],
    responses={
        (200, "application/octet-stream"): OpenApiResponse(bytes, description="The file."),
        302: OpenApiResponse(
            description="With files on S3: Location is a signed link to the file, valid for "
            "5 minutes."
        ),
        404: error("No such entry in the caller's contests, or its file is gone."),
    },
)
@api_view(["GET"])
def video_original(request, video_id):
    video = selectors.video_of_owner(user=request.user, video_id=video_id)
    if video is None:
        raise NotFound()
    return files.original_download(video)


@extend_schema(
    methods=["PUT"],
    summary="Set or replace an entry's captions (the contest's owner)",
    description="Multipart: `file` (WebVTT or SRT, told apart by its content; UTF-8, at most "
    "512 KB and 5,000 cues) and `language` (a BCP 47 tag). Stored as WebVTT, without styles "
    "or markup beyond <b>, <i>, <u> and <v>; served at the entry's `captions_url`.",
    auth=ORGANIZER,
    parameters=[VIDEO_ID],
    request={"multipart/form-data": s.CaptionsUploadSerializer},
    responses={
        200: s.VideoOwnerSerializer,
        400: error("The file or the language was refused: `errors.file`, `errors.language`."),
        404: error("No such entry in the caller's contests."),
    },
)
@extend_schema(
    methods=["DELETE"],
    summary="Remove an entry's captions (the contest's owner)",
    auth=ORGANIZER,
    parameters=[VIDEO_ID],
    responses={204: None, 404: error("No such entry in the caller's contests.")},
)
@api_view(["PUT", "DELETE"])
@parser_classes([MultiPartParser, FormParser])
def video_captions(request, video_id):
    # As for hiding: 404 to anyone but the contest's organizer, who alone knows the entry.
    video = selectors.video_of_owner(user=request.user, video_id=video_id)
    if video is None:
        raise NotFound()
    if request.method == "DELETE":
        services.video_clear_captions(video=video)
        return Response(status=status.HTTP_204_NO_CONTENT)
    # The entries page's form: one check of the fields, in one set of words, for both.
    form = CaptionsForm(request.data, request.FILES)
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    # A refused file or language: a Django ValidationError by field, a 400 (api.errors).
    video = services.video_set_captions(
        video=video,
        content=captions_read(form.cleaned_data["file"]),
        language=form.cleaned_data["language"],
    )
    return Response(s.VideoOwnerSerializer(video).data)
