"""The token in the link that confirms an organizer's email address.

Signed with the secret key and dated, so it cannot be forged and expires. It carries a
fingerprint of the address and of the confirmation state, so it stops working once used and
when the address changes, without storing anything.
"""

from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User

SALT = "accounts.email-confirmation"
MAX_AGE = timedelta(days=3)


def _fingerprint(user: User) -> str:
    state = f"{user.email}|{user.email_confirmed_at}"
    return salted_hmac(SALT, state, algorithm="sha256").hexdigest()[:24]


def confirmation_token(user: User) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{user.pk}:{_fingerprint(user)}")


def confirmation_token_user(token: str) -> User:
    """The organizer whose address the token confirms; ValidationError when it cannot."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            _("This confirmation link has expired. Ask for a new one."), code="expired"
        ) from None
    except signing.BadSignature:
        raise _invalid() from None
    user_id, _separator, fingerprint = value.partition(":")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id.isdigit() else None
    if user is None or not constant_time_compare(fingerprint, _fingerprint(user)):
        raise _invalid()
    return user


def _invalid() -> ValidationError:
    return ValidationError(
        _("This confirmation link is not valid or was already used."), code="invalid"
    )
