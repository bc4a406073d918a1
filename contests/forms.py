from django import forms
from django.utils.translation import gettext_lazy as _

from contests.banners import BannerField
from contests.models import Contest
from contests.validators import without_null_check


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ContestForm(forms.ModelForm):
    class Meta:
        model = Contest
        fields = [
            "name", "slug", "banner", "starts_at", "ends_at", "prize", "description", "rules",
            "max_entries_per_email",
        ]  # fmt: skip
        widgets = {
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "banner": forms.FileInput(attrs={"accept": "image/*"}),
        }
        help_texts = {"starts_at": "UTC", "ends_at": "UTC"}
        field_classes = {"banner": BannerField}  # checked, then re-encoded (contests.banners)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's validators judge control characters, as for the API.
        for name in ("name", "slug", "prize", "description", "rules"):
            without_null_check(self.fields[name])


# What the file picker offers; the server decides by content, not by these names.
VIDEO_ACCEPT = "video/*,.flv,.wmv,.avi,.mov,.mkv,.3gp,.webm,.mpg,.mpeg,.ts,.mp4,.m4v"


class EntryForm(forms.Form):
    """An entry's fields, on the contest page and through the API alike (api/views.py checks
    an upload with this form too). Control characters in the texts are judged by video_submit."""

    first_name = without_null_check(forms.CharField(label=_("First name"), max_length=100))
    last_name = without_null_check(forms.CharField(label=_("Last name"), max_length=100))
    email = without_null_check(
        forms.EmailField(
            label=_("Email"),
            help_text=_("We email you when your video is ready. Never shown publicly."),
        )
    )
    message = without_null_check(
        forms.CharField(
            label=_("Message"),
            widget=forms.Textarea(attrs={"rows": 3}),
            required=False,
            max_length=2000,
        )
    )
    file = forms.FileField(
        label=_("Video file"), widget=forms.FileInput(attrs={"accept": VIDEO_ACCEPT})
    )
