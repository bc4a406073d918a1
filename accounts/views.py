from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts.forms import SignupForm
from accounts.services import organizer_create


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = organizer_create(**form.cleaned_data)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})
