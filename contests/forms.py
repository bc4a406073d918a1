from django import forms
from django.conf import settings
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
        # The contest page shows the banner at 3:1, cropped to fill, up to banner_side wide.
        width = settings.BANNER_SIDE
        self.fields["banner"].help_text = _(
            "Shown wide (3:1) and cropped to fit: best %(width)s × %(height)s pixels, with the "
            "main subject in the middle. JPEG, PNG, WebP or GIF, up to %(size)s MB."
        ) % {"width": width, "height": width // 3, "size": f"{settings.MAX_BANNER_BYTES / 2**20:g}"}


# What the file picker offers; the server decides by content, not by these names.
VIDEO_ACCEPT = "video/*,.flv,.wmv,.avi,.mov,.mkv,.3gp,.webm,.mpg,.mpeg,.ts,.mp4,.m4v"
CAPTIONS_ACCEPT = ".vtt,.srt,text/vtt"


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
    # Optional; judged by video_submit (videos.captions), as an organizer's captions are.
    captions = forms.FileField(
        label=_("Captions"),
        required=False,
        help_text=_("Optional: a WebVTT (.vtt) or SRT (.srt) file."),
        widget=forms.FileInput(attrs={"accept": CAPTIONS_ACCEPT}),
    )
    captions_language = forms.CharField(
        label=_("Language of the captions"),
        required=False,
        max_length=35,
        help_text=_("A language tag such as en, es or pt-BR."),
    )


class EntryCheckForm(EntryForm):
    """An entry's fields before its video is sent: the file's name, size and type stand for
    the file (api/views.py, the contest page's script)."""

    file = None
    file_name = forms.CharField(max_length=255)
    file_size = forms.IntegerField(min_value=0)
    file_type = forms.CharField(max_length=255, required=False)


class CaptionsForm(forms.Form):
    """An entry's captions, set by its organizer on the entries page and through the API alike
    (api/views.py checks a PUT with this form too); the file and the language are judged by
    video_set_captions."""

    file = forms.FileField(
        label=_("Captions file"),
        help_text=_("WebVTT (.vtt) or SRT (.srt)."),
        widget=forms.FileInput(attrs={"accept": CAPTIONS_ACCEPT}),
    )
    language = forms.CharField(
        label=_("Language"), max_length=35, help_text=_("A language tag such as en, es or pt-BR.")
    )
