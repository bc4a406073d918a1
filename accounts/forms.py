from django import forms
from django.utils.translation import gettext_lazy as _

from contests.validators import without_null_check


class SignupForm(forms.Form):
    # organizer_create judges control characters in the name, as for the API.
    name = without_null_check(forms.CharField(label=_("Name"), max_length=150))
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, help_text=_("At least 8 characters.")
    )
