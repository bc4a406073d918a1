from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User


def organizer_create(*, name: str, email: str, password: str) -> User:
    """Create an organizer account; raises ValidationError with field errors."""
    email = User.objects.normalize_email(email or "").strip().lower()
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter your name.")]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    else:
        if User.objects.filter(email=email).exists():
            errors["email"] = [_("An account with this email already exists.")]
    try:
        validate_password(password or "", User(email=email, name=name))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError:  # two sign-ups with one address at the same moment
        raise ValidationError(
            {"email": [_("An account with this email already exists.")]}
        ) from None
