"""Resumable uploads under /api/v1/: the tus 1.0 protocol (https://tus.io/protocols/resumable-upload),
with its creation, termination and expiration extensions. The services are videos/resumable.py.

POST /contests/<slug>/uploads starts one (Upload-Length, and the entry's fields in
Upload-Metadata); HEAD /uploads/<id> tells how many bytes arrived; PATCH /uploads/<id> appends
the next piece at Upload-Offset; the last piece makes the entry. DELETE gives up. Answers have
tus's headers, and a refusal the API's JSON error body too.

Where the originals are in S3, /contests/<slug>/direct-uploads lets the client send the bytes
to the bucket itself: the web tier signs each part's URL and completes the upload.
"""

import base64
import binascii
import math
import uuid

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from api import serializers as s
from api import throttles
from api.errors import error_response
from api.schema import error
from api.views import SLUG, SUBMISSION_STATUS, entry_check_form
from contests.forms import CaptionsForm
from contests.models import Contest
from videos import resumable, services
from videos.captions import captions_read
from videos.models import PartialUpload

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
UPLOAD_ID = OpenApiParameter("upload_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
NO_VERSION = error("Tus-Resumable is missing or not 1.0.0 (Tus-Version says which it is).")
TUS_HEADER = OpenApiParameter(
    "Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION]
)


def tus(response: Response, upload: PartialUpload | None = None) -> Response:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"  # an offset is true only now
    if upload is not None:
        response["Upload-Offset"] = str(upload.offset)
        response["Upload-Length"] = str(upload.length)
        if upload.video_id is None:
            response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
        else:
            response["Upload-Entry"] = str(upload.video_id)  # the entry it became
    return response


def header_int(request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise ParseError(_("The %(header)s header must be a number of bytes.") % {"header": name})
    return int(value)


def metadata(request) -> dict[str, str]:
    """Upload-Metadata: comma-separated pairs of a key and its value in base64."""
    pairs = {}
    for pair in filter(None, request.headers.get("Upload-Metadata", "").split(",")):
        key, _space, value = pair.strip().partition(" ")
        try:
            pairs[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ParseError(_("Upload-Metadata is not valid base64 of UTF-8 text.")) from None
    return pairs


def refused(rejection: services.SubmissionRejected) -> Response:
    response = error_response(rejection.message, SUBMISSION_STATUS[rejection.code], rejection.field)
    if rejection.retry_after:
        response["Retry-After"] = str(math.ceil(rejection.retry_after))
    return response


def version_missing(request) -> Response | None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        response = error_response(
            _("Send Tus-Resumable: 1.0.0."), status.HTTP_412_PRECONDITION_FAILED
        )
        response["Tus-Version"] = TUS_VERSION
        return tus(response)
    return None


@extend_schema(
    methods=["POST"],
    summary="Start a resumable upload of an entry (anyone; tus 1.0 creation)",
    description="For large files and unsteady connections; the one-request upload "
    "(POST /contests/{slug}/videos) stays for scripts and small files. Headers: "
    "`Upload-Length` (the video's size in bytes) and `Upload-Metadata`, comma-separated "
    "`key base64(value)` pairs: `first_name`, `last_name`, `email`, `message`, "
    "`captions_language` and `filename`. The fields are checked as POST .../videos/check "
    "checks them (400 with every field's errors). The answer's `Location` is the upload: send "
    "the video there with PATCH, in pieces; it expires (`Upload-Expires`) a day after its "
    "last piece. Counts as an upload for the per-network limit.",
    parameters=[SLUG, TUS_HEADER],
    request=None,
    responses={
        201: OpenApiResponse(description="Started: `Location` is the upload's address."),
        400: error("Fields were refused: `errors` has every field's messages."),
        404: error("No contest has this address."),
        409: error("The contest is not open, or its organizer has not confirmed their email."),
        412: NO_VERSION,
        413: error("Upload-Length is larger than max_upload_mb."),
        429: error("Too many uploads from the client's network this hour."),
    },
)
@extend_schema(
    methods=["OPTIONS"],
    summary="What the resumable uploads support (tus 1.0)",
    parameters=[SLUG],
    request=None,
    responses={204: OpenApiResponse(description="Tus-Version, Tus-Extension, Tus-Max-Size.")},
)
@api_view(["POST", "OPTIONS"])
@parser_classes([])  # the body is empty; the fields come in headers
def contest_uploads(request, slug: str):
    if request.method == "OPTIONS":
        response = Response(status=status.HTTP_204_NO_CONTENT)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = EXTENSIONS
        response["Tus-Max-Size"] = str(settings.MAX_UPLOAD_BYTES)
        return tus(response)
    if missing := version_missing(request):
        return missing
    contest = get_object_or_404(Contest, slug=slug)
    length = header_int(request, "Upload-Length")
    if length > settings.MAX_UPLOAD_BYTES:
        return tus(error_response(services.too_large_message(), 413, "file"))
    throttles.enforce(throttles.UploadsPerNetwork, request)
    fields = metadata(request)
    try:
        upload = resumable.upload_start(
            contest=contest, fields=fields, file_name=fields.get("filename", ""), length=length
        )
    except services.SubmissionRejected as rejection:
        return tus(refused(rejection))
    except resumable.FieldsRefused as refusal:
        raise ValidationError(refusal.errors) from None
    response = Response(status=status.HTTP_201_CREATED)
    response["Location"] = request.build_absolute_uri(reverse("api-upload", args=[upload.id]))
    return tus(response, upload)


@extend_schema(
    methods=["HEAD"],
    summary="How much of a resumable upload arrived (tus 1.0)",
    description="`Upload-Offset`: the bytes received, where the next piece starts. Once the "
    "last piece made the entry, `Upload-Entry` is its id (GET /videos/{id} once it is ready).",
    parameters=[UPLOAD_ID, TUS_HEADER],
    responses={
        200: None,
        404: error("No such upload: it expired, or was refused or deleted."),
        412: NO_VERSION,
    },
)
@extend_schema(
    methods=["PATCH"],
    summary="Send the next piece of a resumable upload (tus 1.0)",
    description="Content-Type `application/offset+octet-stream`; `Upload-Offset` must be the "
    "upload's (409 otherwise: ask it with HEAD). The piece that completes the upload makes the "
    "entry: the video is checked as the one-request upload checks it, with the same errors; "
    "`Upload-Entry` in the answer is the entry's id.",
    parameters=[UPLOAD_ID, TUS_HEADER],
    request=None,  # the body is the piece's bytes, as application/offset+octet-stream
    responses={
        204: None,
        404: error("No such upload: it expired, or was refused or deleted."),
        409: error("Upload-Offset is not the upload's."),
        412: NO_VERSION,
        413: error("The piece goes past Upload-Length."),
        415: error("Not application/offset+octet-stream; or, for the last piece, not a video."),
        422: error("The video is over a media limit, or cut short."),
        429: error("The contest's entries per email address, or its storage, are used up."),
    },
)
@extend_schema(
    methods=["DELETE"],
    summary="Give up a resumable upload (tus 1.0 termination)",
    parameters=[UPLOAD_ID, TUS_HEADER],
    responses={204: None, 404: error("No such upload."), 412: NO_VERSION},
)
@api_view(["HEAD", "PATCH", "DELETE"])
@parser_classes([])  # PATCH's body is read as it is, never parsed
def upload_detail(request, upload_id):
    if missing := version_missing(request):
        return missing
    upload = PartialUpload.objects.filter(id=upload_id).first() if is_uuid(upload_id) else None
    if upload is None:
        raise NotFound()
    if request.method == "HEAD":
        return tus(Response(status=status.HTTP_200_OK), upload)
    if request.method == "DELETE":
        if upload.video_id is None:
            resumable.upload_cancel(upload=upload)
        return tus(Response(status=status.HTTP_204_NO_CONTENT))
    if request.content_type.split(";")[0].strip() != "application/offset+octet-stream":
        return tus(error_response(
            _("Send the piece as application/offset+octet-stream."),
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        ))  # fmt: skip
    offset = header_int(request, "Upload-Offset")
    try:
        upload = resumable.upload_append(upload_id=upload.id, offset=offset, read=request.read)
    except PartialUpload.DoesNotExist:  # finished meanwhile
        return tus(error_response(_("This upload is complete."), status.HTTP_409_CONFLICT))
    except resumable.OffsetMismatch:
        return tus(error_response(
            _("Upload-Offset is not where the received bytes end: ask with HEAD."),
            status.HTTP_409_CONFLICT,
        ))  # fmt: skip
    except resumable.TooLong:
        return tus(error_response(_("The piece goes past Upload-Length."), 413))
    except services.SubmissionRejected as rejection:
        return tus(refused(rejection))
    return tus(Response(status=status.HTTP_204_NO_CONTENT), upload)


CAPTIONS_SCHEMA = {
    "description": "Optional, before the last piece or part: the entry is made with them. "
    "Checked as the organizer's captions are (WebVTT or SRT, stored as WebVTT).",
    "request": {"multipart/form-data": s.CaptionsUploadSerializer},
    "responses": {
        204: None,
        400: error("The file or the language was refused: `errors` says why, by field."),
        404: error("No such upload."),
        409: error("The upload made its entry already."),
    },
}


@extend_schema(summary="Captions for the entry a resumable upload makes", parameters=[UPLOAD_ID],
               **CAPTIONS_SCHEMA)  # fmt: skip
@api_view(["PUT"])
@parser_classes([MultiPartParser, FormParser])
def upload_captions(request, upload_id):
    upload = PartialUpload.objects.filter(id=upload_id, s3_upload_id="").first()
    return captions_set(request, upload if is_uuid(upload_id) else None)


@extend_schema(summary="Captions for the entry an upload straight to S3 makes",
               parameters=[UPLOAD_ID], **CAPTIONS_SCHEMA)  # fmt: skip
@api_view(["PUT"])
@parser_classes([MultiPartParser, FormParser])
def direct_upload_captions(request, upload_id):
    return captions_set(request, direct_upload(upload_id))


def captions_set(request, upload: PartialUpload | None) -> Response:
    if upload is None:
        raise NotFound()
    # The entries page's form, as for an organizer's captions: one check, one set of words.
    form = CaptionsForm(request.data, request.FILES)
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    try:
        resumable.upload_set_captions(
            upload=upload,
            content=captions_read(form.cleaned_data["file"]),
            language=form.cleaned_data["language"],
        )
    except resumable.Finished:
        return error_response(_("This upload made its entry already."), status.HTTP_409_CONFLICT)
    return Response(status=status.HTTP_204_NO_CONTENT)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- straight to S3


def direct_upload(upload_id) -> PartialUpload:
    upload = None
    if is_uuid(upload_id):
        upload = PartialUpload.objects.filter(id=upload_id).exclude(s3_upload_id="").first()
    if upload is None:
        raise NotFound()
    return upload


@extend_schema(
    summary="Start an upload straight to S3 (anyone; setups whose files are in S3)",
    description="The video's bytes go from the client to the bucket, never through the web "
    "tier: an S3 multipart upload of the entry's key under originals/. The body is what "
    "POST .../videos/check takes (without captions), checked the same way and counted "
    "against the network's uploads. Then: ask part URLs (POST /direct-uploads/{id}/parts), "
    "PUT each part's bytes to its URL, and complete (POST /direct-uploads/{id}/complete). "
    "S3's answers carry the part's ETag; the bucket's CORS must expose it to the site.",
    parameters=[SLUG],
    request=s.VideoCheckSerializer,
    responses={
        201: s.DirectUploadSerializer,
        400: error("Fields were refused: `errors` has every field's messages."),
        404: error("No contest has this address, or the files are not in S3 here."),
        409: error("The contest is not open, or its organizer has not confirmed their email."),
        429: error("Too many uploads from the client's network this hour."),
    },
)
@api_view(["POST"])
@parser_classes([JSONParser])
def contest_direct_uploads(request, slug: str):
    contest = get_object_or_404(Contest, slug=slug)
    if not resumable.direct_available():
        raise NotFound(_("Uploads go to this site, not to S3: use POST .../uploads."))
    throttles.enforce(throttles.UploadsPerNetwork, request)
    form, errors = entry_check_form(request)
    if errors:
        raise ValidationError(errors)
    try:
        upload = resumable.direct_start(
            contest=contest,
            fields=form.cleaned_data,
            file_name=form.cleaned_data["file_name"],
            length=form.cleaned_data["file_size"],
        )
    except services.SubmissionRejected as rejection:
        return refused(rejection)
    except resumable.FieldsRefused as refusal:
        raise ValidationError(refusal.errors) from None
    part_bytes = resumable.direct_part_bytes(upload.length)
    answer = {"id": upload.id, "part_bytes": part_bytes, "expires_at": upload.expires_at,
              "parts": max(1, -(-upload.length // part_bytes))}  # fmt: skip
    return Response(s.DirectUploadSerializer(answer).data, status=status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    summary="The parts S3 holds of an upload straight to S3",
    description="To resume: send only the parts missing here.",
    parameters=[UPLOAD_ID],
    responses={200: s.StoredPartSerializer(many=True), 404: error("No such upload.")},
)
@extend_schema(
    methods=["POST"],
    summary="Signed URLs for parts of an upload straight to S3",
    description="Each URL lets its holder PUT that one part of that one upload, for 15 "
    "minutes; up to 100 parts a request.",
    parameters=[UPLOAD_ID],
    request=s.PartNumbersSerializer,
    responses={
        200: s.PartUrlsSerializer,
        400: error("A part number past the file's last part."),
        404: error("No such upload."),
    },
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser])
def direct_upload_parts(request, upload_id):
    upload = direct_upload(upload_id)
    if request.method == "GET":
        return Response(
            s.StoredPartSerializer(resumable.direct_parts(upload=upload), many=True).data
        )
    data = s.PartNumbersSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        urls = resumable.direct_part_urls(upload=upload, numbers=data.validated_data["numbers"])
    except ValueError as error:
        message = _("The file has %(count)s parts.") % {"count": error.args[0]}
        raise ValidationError({"numbers": [message]}) from None
    return Response({"urls": {str(number): url for number, url in urls.items()}})


@extend_schema(
    summary="Complete an upload straight to S3: the entry is made",
    description="Joins the parts S3 holds. The entry is checked as an upload is but for its "
    "content, which the conversion checks: a file that is not a video ends `failed`, with a "
    "reason, and its participant is emailed.",
    parameters=[UPLOAD_ID],
    request=None,
    responses={
        202: s.VideoAcceptedSerializer,
        400: error("The file S3 holds is not the size declared: it is deleted."),
        404: error("No such upload."),
        409: error("The contest closed meanwhile."),
        429: error("The contest's entries per email address, or its storage, are used up."),
    },
)
@api_view(["POST"])
def direct_upload_complete(request, upload_id):
    upload = direct_upload(upload_id)
    try:
        video = resumable.direct_complete(upload=upload)
    except resumable.SizeMismatch:
        message = _("The file sent is not the size announced. Please send it again.")
        return error_response(message, status.HTTP_400_BAD_REQUEST, "file")
    except services.SubmissionRejected as rejection:
        return refused(rejection)
    return Response(s.VideoAcceptedSerializer(video).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    summary="Give up an upload straight to S3: its parts are dropped",
    parameters=[UPLOAD_ID],
    responses={204: None, 404: error("No such upload.")},
)
@api_view(["DELETE"])
def direct_upload_detail(request, upload_id):
    resumable.upload_cancel(upload=direct_upload(upload_id))
    return Response(status=status.HTTP_204_NO_CONTENT)
