from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from contests.models import Contest
from contests.validators import without_null_check
from videos.models import Video


def absolute(url: str) -> str:
    """Storages give '/media/..' on local disk and full URLs on S3/CloudFront."""
    return settings.WEB_URL + url if url.startswith("/") else url


def file_url(field) -> str | None:
    return absolute(field.url) if field else None


class TextField(serializers.CharField):
    """Text whose control characters the service judges (contests.validators), so the API
    refuses them in the same words as the pages."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        without_null_check(self)  # here, not on an instance: DRF copies fields by re-making them


class OrganizerCreateSerializer(serializers.Serializer):
    name = TextField(max_length=150)
    email = serializers.EmailField()
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


class ConfirmationRequestSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The last part of the link in the email.")


class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ContestWriteSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    description = TextField(required=False, allow_blank=True, default="")
    prize = TextField(required=False, allow_blank=True, default="", max_length=300)
    rules = TextField(required=False, allow_blank=True, default="")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    banner = serializers.ImageField(required=False)
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
    first_name = TextField(max_length=100)
    last_name = TextField(max_length=100)
    email = serializers.EmailField()
    message = TextField(required=False, allow_blank=True, max_length=2000)
    file = serializers.FileField()


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
