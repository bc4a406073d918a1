import functools

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services, tokens
from accounts.forms import LoginForm, PasswordResetForm, SignupForm
from api import throttles


def answers_limits(view):
    """A form page whose form met a limit (its `limit`) answers 429 with Retry-After, as the
    API does; the form shows the message."""

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        limit = getattr(form, "limit", None)
        return throttles.refused(response, limit) if limit else response

    return page


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


login = answers_limits(auth_views.LoginView.as_view(authentication_form=LoginForm))
# The admin's own page and form (accounts/admin.py sets AdminLoginForm), with the 429.
admin_login = answers_limits(admin.site.login)
password_reset = answers_limits(
    PasswordResetView.as_view(extra_email_context={"web_url": settings.WEB_URL})
)


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        try:
            throttles.enforce(throttles.SignupsPerNetwork, request)
        except throttles.LimitReached as limit:
            form.add_error(None, str(limit.detail))
            return throttles.refused(render(request, "accounts/signup.html", {"form": form}), limit)
    if request.method == "POST" and form.is_valid():
        try:
            services.organizer_sign_up(**form.cleaned_data)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(field if field in form.fields else None, message)
        else:
            # The same answer whether the address had an account or not; nobody is logged in.
            return redirect("signup-done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request):
    return render(request, "accounts/signup_done.html")


def confirm_email(request, token: str):
    """The link from the email. Opening it asks for one click (a POST): mail scanners that
    open every link must not confirm an address its owner never saw."""
    try:
        if request.method == "POST":
            user = services.organizer_confirm_email(token=token)
            return render(request, "accounts/confirm_email.html", {"confirmed": user})
        user = tokens.confirmation_token_user(token)
    except ValidationError as error:
        context = {"error": error.messages[0], "expired": error.code == "expired"}
        return render(request, "accounts/confirm_email.html", context, status=400)
    return render(request, "accounts/confirm_email.html", {"to_confirm": user})


@login_required
@require_POST
def confirmation_email_resend(request):
    try:
        services.organizer_confirmation_email_send(user=request.user)
    except throttles.LimitReached as limit:
        page = render(request, "accounts/confirmation_too_soon.html", {"message": limit.detail})
        return throttles.refused(page, limit)
    except ValidationError as error:  # confirmed already
        messages.info(request, error.messages[0])
    else:
        messages.success(
            request, _("We sent a new link to %(email)s.") % {"email": request.user.email}
        )
    return redirect("dashboard")
