from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator, validate_email, validate_slug
from django.urls import reverse
from rest_framework import serializers

from contests.banners import BannerField
from contests.models import Contest
from contests.validators import without_null_check
from videos import assets
from videos.models import Video

# What a page form says of a missing or empty field.
REQUIRED = forms.Field.default_error_messages["required"]


def absolute(url: str) -> str:
    """Storages give '/media/..' on local disk and full URLs on S3/CloudFront."""
    return settings.WEB_URL + url if url.startswith("/") else url


def file_url(field) -> str | None:
    return absolute(field.url) if field else None


class FormWords:
    """A serializer field that refuses in the words of the page form's field, so that the page
    and the API give one answer for one value: a missing or blank value is "required", a long
    one gets Django's length message, and control characters are left to the validators of
    contests.validators, which the services run for both."""

    def __init__(self, **kwargs):
        kwargs["error_messages"] = {
            "required": REQUIRED,
            "blank": REQUIRED,
            "null": REQUIRED,
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)
        # Here, not on an instance: DRF copies fields by re-making them.
        self.validators = [
            MaxLengthValidator(validator.limit_value)  # Django's message, as the form's
            if isinstance(validator, MaxLengthValidator)
            else validator
            for validator in without_null_check(self).validators
        ]


class TextField(FormWords, serializers.CharField):
    """Text, trimmed as the page forms trim it."""


class SlugField(FormWords, serializers.SlugField):
    def __init__(self, **kwargs):
        super().__init__(error_messages={"invalid": validate_slug.message}, **kwargs)


class EmailField(FormWords, serializers.EmailField):
    def __init__(self, **kwargs):
        super().__init__(error_messages={"invalid": validate_email.message}, **kwargs)


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (4xx and 5xx)."""

    detail = serializers.CharField(
        help_text="What went wrong, in one sentence, in the client's language "
        "(Accept-Language); a field's error starts with the field's name."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="The messages of each field that was refused, by field name "
        "(non_field_errors: of the request as a whole).",
    )


class OrganizerCreateSerializer(serializers.Serializer):
    name = TextField(max_length=150)
    email = EmailField()
    password = serializers.CharField(write_only=True)


class OrganizerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    email_confirmed = serializers.SerializerMethodField(
        help_text="True once the organizer followed the link emailed at sign-up; until then "
        "their contests take no entries."
    )

    def get_email_confirmed(self, user) -> bool:
        return user.email_confirmed_at is not None


class SignUpSerializer(serializers.Serializer):
    """The answer to a sign-up: the same whether the address was free or had an account."""

    id = serializers.IntegerField(
        allow_null=True,
        help_text="Always null: the answer does not say whether an account was made.",
    )
    name = serializers.CharField()
    email = serializers.EmailField()
    email_confirmed = serializers.BooleanField(help_text="Always false.")
    detail = serializers.CharField(help_text="What to do next: open the emailed link.")


class ConfirmationRequestSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The last part of the link in the email.")


class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(
        help_text="When the token stops working (token_lifetime_hours after it was made). "
        "Revoked sooner by DELETE /auth/token or a new password."
    )


class ContestWriteSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    slug = SlugField(max_length=80)
    description = TextField(required=False, allow_blank=True, default="")
    prize = TextField(required=False, allow_blank=True, default="", max_length=300)
    rules = TextField(required=False, allow_blank=True, default="")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    banner = serializers.ImageField(required=False, _DjangoImageField=BannerField)  # re-encoded
    max_entries_per_email = serializers.IntegerField(
        required=False, min_value=1, max_value=1000, help_text="entries one email address may send"
    )


class ContestSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    banner_url = serializers.SerializerMethodField()
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Contest
        fields = [
            "slug", "name", "description", "prize", "rules", "starts_at", "ends_at",
            "url", "banner_url", "is_open", "created_at", "max_entries_per_email",
        ]  # fmt: skip

    def get_url(self, contest: Contest) -> str:
        return contest.public_url()

    def get_banner_url(self, contest: Contest) -> str | None:
        return file_url(contest.banner)

    def get_is_open(self, contest: Contest) -> bool:
        return contest.is_open()


class VideoSubmitSerializer(serializers.Serializer):
    """The upload's fields, as the page's entry form (contests.forms.EntryForm) takes them: the
    API checks them with that form, so this describes it."""

    first_name = TextField(max_length=100)
    last_name = TextField(max_length=100)
    email = EmailField(help_text="Where the participant is told the video is ready; never shown.")
    message = TextField(required=False, allow_blank=True, max_length=2000)
    file = serializers.FileField(help_text="The video, in any format a camera makes.")
    captions = serializers.FileField(
        required=False, help_text="Optional captions: WebVTT or SRT, UTF-8, at most 512 KB."
    )
    captions_language = TextField(
        required=False,
        allow_blank=True,
        max_length=35,
        help_text="The captions' language, a BCP 47 tag (en, es, pt-BR); needed with captions.",
    )


class VideoCheckSerializer(serializers.Serializer):
    """An upload's fields without the video: its name, size and type stand for it. Checked
    with the page's entry form and video_check, as an upload is up to its video's content."""

    first_name = TextField(max_length=100)
    last_name = TextField(max_length=100)
    email = EmailField()
    message = TextField(required=False, allow_blank=True, max_length=2000)
    file_name = serializers.CharField(max_length=255, help_text="The video file's name.")
    file_size = serializers.IntegerField(min_value=0, help_text="The video file's size in bytes.")
    file_type = serializers.CharField(
        required=False, max_length=255, help_text="Its media type, as the browser tells it."
    )
    captions = serializers.FileField(
        required=False, help_text="Optional captions, checked as the upload checks them."
    )
    captions_language = TextField(required=False, allow_blank=True, max_length=35)


class DirectUploadSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The upload's, and the entry's once complete.")
    part_bytes = serializers.IntegerField(help_text="Every part's size but the last's.")
    parts = serializers.IntegerField(help_text="How many parts the file makes.")
    expires_at = serializers.DateTimeField()


class PartNumbersSerializer(serializers.Serializer):
    numbers = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100
    )


class PartUrlsSerializer(serializers.Serializer):
    urls = serializers.DictField(
        child=serializers.URLField(),
        help_text="By part number: a URL to PUT that part's bytes to, for 15 minutes. S3 "
        "answers its ETag header.",
    )


class StoredPartSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    etag = serializers.CharField()
    size = serializers.IntegerField()


class VideoPublicSerializer(serializers.ModelSerializer):
    """What anyone may see of a ready, shown entry. Never the participant's email."""

    participant_name = serializers.CharField()
    video_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    contest = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    captions_url = serializers.SerializerMethodField(
        help_text="The captions as WebVTT (text/vtt), for a <track>; null without captions."
    )
    captions_language = serializers.CharField(
        read_only=True, help_text='The captions\' BCP 47 language tag; "" without captions.'
    )
    # The entry's media assets (videos.assets): null or empty until made, and for hidden ones.
    stream_url = serializers.SerializerMethodField(help_text="The HLS master playlist.")
    storyboard_url = serializers.SerializerMethodField(
        help_text="The WebVTT thumbnail track, for previews while scrubbing."
    )
    thumbnail_urls = serializers.SerializerMethodField(
        help_text='The poster fitted in a 16:9 box, by width in pixels: {"320": url, "640": url}.'
    )

    class Meta:
        model = Video
        fields = [
            "id", "contest", "participant_name", "message", "video_url", "poster_url", "page_url",
            "duration", "width", "height", "created_at",
            "stream_url", "storyboard_url", "thumbnail_urls",
            "captions_url", "captions_language",
        ]  # fmt: skip

    def get_video_url(self, video: Video) -> str | None:
        return file_url(video.converted)

    def get_poster_url(self, video: Video) -> str | None:
        return file_url(video.poster)

    def get_page_url(self, video: Video) -> str:
        return absolute(video.get_absolute_url())

    def get_captions_url(self, video: Video) -> str | None:
        # By the language, which is set with the captions: a list need not read their text.
        if not video.captions_language:
            return None
        return absolute(reverse("video-captions", args=[video.contest.slug, video.id]))

    def get_stream_url(self, video: Video) -> str | None:
        url = assets.stream_url(video)
        return absolute(url) if url else None

    def get_storyboard_url(self, video: Video) -> str | None:
        url = assets.storyboard_url(video)
        return absolute(url) if url else None

    def get_thumbnail_urls(self, video: Video) -> dict[str, str]:
        return {str(width): absolute(url) for width, url in assets.thumbnail_urls(video).items()}


class VideoOwnerSerializer(VideoPublicSerializer):
    """What the contest's organizer sees: every entry, its state and the original."""

    original_url = serializers.SerializerMethodField()
    streams_status = serializers.CharField(
        read_only=True,
        help_text='The HLS stream and storyboard: "pending", "ready", "failed" (the entry then '
        'plays its MP4), or "" for an entry converted before streams were made.',
    )
    loudness = serializers.FloatField(
        read_only=True,
        help_text="The upload's integrated loudness (EBU R128, LUFS) before it was brought to "
        "-16 LUFS; null without sound.",
    )

    class Meta(VideoPublicSerializer.Meta):
        fields = VideoPublicSerializer.Meta.fields + [
            "status", "failure_reason", "hidden", "first_name", "last_name", "email",
            "original_url", "original_name", "original_size", "finished_at",
            "streams_status", "loudness",
        ]  # fmt: skip

    def get_original_url(self, video: Video) -> str:
        return absolute(reverse("api-video-original", args=[video.id]))


class VideoAcceptedSerializer(serializers.ModelSerializer):
    """The answer to an upload: it is queued; the email follows."""

    participant_name = serializers.CharField()
    contest = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Video
        fields = ["id", "status", "contest", "participant_name", "message", "created_at"]


class VideoUpdateSerializer(serializers.Serializer):
    hidden = serializers.BooleanField()


class CaptionsUploadSerializer(serializers.Serializer):
    """An entry's captions, as the entries page's form (contests.forms.CaptionsForm) takes them:
    the API checks them with that form, so this describes it."""

    file = serializers.FileField(
        help_text="WebVTT or SRT (told apart by content), UTF-8, at most 512 KB and 5,000 cues; "
        "stored as WebVTT."
    )
    language = TextField(max_length=35, help_text="A BCP 47 language tag: en, es, pt-BR...")
