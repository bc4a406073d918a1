"""The JSON API under /api/v1/: validate, call one service, shape the answer."""

import math

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, parser_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts import services as account_services
from api import serializers as s
from api import throttles
from api.errors import error_response
from contests import selectors as contest_selectors
from contests import services as contest_services
from contests.models import Contest
from videos import files, selectors, services
from videos.models import Video

SUBMISSION_STATUS = {
    "closed": status.HTTP_409_CONFLICT,
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "not_video": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "media_limit": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "limit": status.HTTP_429_TOO_MANY_REQUESTS,
    "invalid": status.HTTP_400_BAD_REQUEST,
}


class Pages(PageNumberPagination):
    page_size = 50


def paginated(request, queryset, serializer_class):
    pages = Pages()
    page = pages.paginate_queryset(queryset, request)
    return pages.get_paginated_response(serializer_class(page, many=True).data)


def require_organizer(request) -> Response | None:
    if not request.user.is_authenticated:
        return error_response("Authentication required: send Authorization: Bearer <token>.", 401)
    return None


# ---------------------------------------------------------------- accounts


@extend_schema(
    request=s.OrganizerCreateSerializer,
    responses={201: s.OrganizerSerializer},
    description="Creates the account and emails a link that confirms the address "
    "(POST /organizers/confirm). Until then the organizer's contests take no entries.",
)
@api_view(["POST"])
def organizers(request):
    throttles.enforce(throttles.SignupsPerNetwork, request)
    data = s.OrganizerCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = account_services.organizer_create(**data.validated_data)
    return Response(s.OrganizerSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=s.ConfirmationRequestSerializer,
    responses={200: s.OrganizerSerializer, 400: s.MessageSerializer},
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
    responses={
        202: s.MessageSerializer,
        401: s.MessageSerializer,
        409: s.MessageSerializer,
        429: s.MessageSerializer,
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


@extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer})
@api_view(["POST"])
def auth_token(request):
    data = s.TokenRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = authenticate(
        request,
        email=data.validated_data["email"].lower(),
        password=data.validated_data["password"],
    )
    if user is None:
        response = error_response("Wrong email or password.", status.HTTP_401_UNAUTHORIZED)
        response["WWW-Authenticate"] = "Bearer"
        return response
    token, _ = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


# ---------------------------------------------------------------- contests


@extend_schema(methods=["GET"], responses={200: s.ContestSerializer(many=True)})
@extend_schema(
    methods=["POST"], request=s.ContestWriteSerializer, responses={201: s.ContestSerializer}
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def contests(request):
    if refusal := require_organizer(request):
        return refusal
    if request.method == "GET":
        owned = contest_selectors.contests_of_owner(owner=request.user)
        return paginated(request, owned, s.ContestSerializer)
    data = s.ContestWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    contest = contest_services.contest_create(owner=request.user, **data.validated_data)
    return Response(s.ContestSerializer(contest).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses={200: s.ContestSerializer})
@extend_schema(
    methods=["PATCH"], request=s.ContestWriteSerializer, responses={200: s.ContestSerializer}
)
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def contest_detail(request, slug: str):
    if request.method == "GET":
        contest = get_object_or_404(Contest, slug=slug)
        return Response(s.ContestSerializer(contest).data)
    if refusal := require_organizer(request):
        return refusal
    contest = contest_selectors.contest_of_owner(owner=request.user, slug=slug)
    if contest is None:
        return error_response("Not found.", status.HTTP_404_NOT_FOUND)
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
    parameters=[
        OpenApiParameter("page", int),
        OpenApiParameter("status", str, description="contest owner only", enum=Video.Status.values),
    ],
    responses={200: s.VideoPublicSerializer(many=True)},
)
@extend_schema(
    methods=["POST"], request=s.VideoSubmitSerializer, responses={202: s.VideoAcceptedSerializer}
)
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser])
def contest_videos(request, slug: str):
    contest = get_object_or_404(Contest, slug=slug)
    if request.method == "POST":
        return submit_video(request, contest)
    if contest_selectors.contest_of_owner(owner=request.user, slug=slug):
        entries = selectors.videos_of_contest(
            contest=contest, status=request.query_params.get("status")
        )
        return paginated(request, entries, s.VideoOwnerSerializer)
    return paginated(request, selectors.videos_public(contest=contest), s.VideoPublicSerializer)


def submit_video(request, contest: Contest) -> Response:
    if services.upload_too_large(request.META.get("CONTENT_LENGTH")):
        return error_response(services.too_large_message(), 413, "file")
    throttles.enforce(throttles.UploadsPerNetwork, request)
    try:
        video = services.video_submit(
            contest=contest,
            first_name=request.data.get("first_name", ""),
            last_name=request.data.get("last_name", ""),
            email=request.data.get("email", ""),
            message=request.data.get("message", ""),
            upload=request.FILES.get("file"),
        )
    except services.SubmissionRejected as rejection:
        response = error_response(
            rejection.message, SUBMISSION_STATUS[rejection.code], rejection.field
        )
        if rejection.retry_after:
            response["Retry-After"] = str(math.ceil(rejection.retry_after))
        return response
    return Response(s.VideoAcceptedSerializer(video).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(methods=["GET"], responses={200: s.VideoPublicSerializer})
@extend_schema(
    methods=["PATCH"], request=s.VideoUpdateSerializer, responses={200: s.VideoOwnerSerializer}
)
@api_view(["GET", "PATCH"])
def video_detail(request, video_id):
    video = selectors.video_visible_to(user=request.user, video_id=video_id)
    if video is None:
        return error_response("Not found.", status.HTTP_404_NOT_FOUND)
    is_owner = request.user.is_authenticated and video.contest.owner_id == request.user.id
    if request.method == "PATCH":
        if not is_owner:
            return error_response("Not found.", status.HTTP_404_NOT_FOUND)
        data = s.VideoUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.video_set_hidden(video=video, hidden=data.validated_data["hidden"])
    serializer = s.VideoOwnerSerializer if is_owner else s.VideoPublicSerializer
    return Response(serializer(video).data)


@extend_schema(responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
def video_original(request, video_id):
    video = selectors.video_of_owner(user=request.user, video_id=video_id)
    if video is None:
        return error_response("Not found.", status.HTTP_404_NOT_FOUND)
    return files.original_download(video)
