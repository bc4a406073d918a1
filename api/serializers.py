from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator, validate_email, validate_slug
from django.urls import reverse
from rest_framework import serializers

from contests.banners import BannerField
from contests.models import Contest
from contests.validators import without_null_check
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


class VideoPublicSerializer(serializers.ModelSerializer):
    """What anyone may see of a ready, shown entry. Never the participant's email."""

    participant_name = serializers.CharField()
    video_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    contest = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Video
        fields = [
            "id", "contest", "participant_name", "message", "video_url", "poster_url", "page_url",
            "duration", "width", "height", "created_at",
        ]  # fmt: skip

    def get_video_url(self, video: Video) -> str | None:
        return file_url(video.converted)

    def get_poster_url(self, video: Video) -> str | None:
        return file_url(video.poster)

    def get_page_url(self, video: Video) -> str:
        return absolute(video.get_absolute_url())


class VideoOwnerSerializer(VideoPublicSerializer):
    """What the contest's organizer sees: every entry, its state and the original."""

    original_url = serializers.SerializerMethodField()

    class Meta(VideoPublicSerializer.Meta):
        fields = VideoPublicSerializer.Meta.fields + [
            "status", "failure_reason", "hidden", "first_name", "last_name", "email",
            "original_url", "original_name", "original_size", "finished_at",
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
