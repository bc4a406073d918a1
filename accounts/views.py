from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services, tokens
from accounts.forms import SignupForm
from api import throttles


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
            user = services.organizer_create(**form.cleaned_data)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(field if field in form.fields else None, message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


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
