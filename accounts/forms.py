from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import services
from api.throttles import LimitReached
from contests.validators import without_null_check


class SignupForm(forms.Form):
    # organizer_sign_up judges control characters in the name, as for the API.
    name = without_null_check(forms.CharField(label=_("Name"), max_length=150))
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, help_text=_("At least 8 characters.")
    )


class LimitedLogin:
    """Checks the password through organizer_authenticate, as the API does, so the log-in
    page, the admin's and the API share one count of failed log-ins. Over a limit the form
    says so, and `limit` holds it for the page's 429 (views.answers_limits)."""

    limit: LimitReached | None = None

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = services.organizer_authenticate(
                    request=self.request, email=email, password=password
                )
            except LimitReached as limit:
                self.limit = limit
                raise ValidationError(str(limit.detail), code="limit") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(LimitedLogin, auth_forms.AuthenticationForm):
    pass


class AdminLoginForm(LimitedLogin, AdminAuthenticationForm):
    pass


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's (the same answer for unknown addresses), with requests for a link limited per
    address and per network."""

    limit: LimitReached | None = None

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        email = self.cleaned_data.get("email")
        if email:
            try:
                services.password_reset_attempt(request=self.request, email=email)
            except LimitReached as limit:
                self.limit = limit
                raise ValidationError(str(limit.detail), code="limit") from None
        return self.cleaned_data
