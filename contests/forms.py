from django import forms

from contests.models import Contest


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ContestForm(forms.ModelForm):
    class Meta:
        model = Contest
        fields = ["name", "slug", "banner", "starts_at", "ends_at", "prize", "description", "rules"]
        widgets = {
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "banner": forms.FileInput(attrs={"accept": "image/*"}),
        }
        labels = {"slug": "Address (URL)"}
        help_texts = {"starts_at": "UTC", "ends_at": "UTC"}


class EntryForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(
        help_text="We email you when your video is ready. Never shown publicly."
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    file = forms.FileField(
        label="Video file", widget=forms.ClearableFileInput(attrs={"accept": "video/*"})
    )
