import logging
import math
import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import User
from api.throttles import LimitReached
from contests.validators import validate_single_line

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = User._meta.get_field("name").max_length
# At most one confirmation email per account in this many seconds (sign-up's counts).
CONFIRMATION_EMAIL_INTERVAL = 5 * 60


def organizer_create(*, name: str, email: str, password: str) -> User:
    """Create an organizer account and email it the confirmation link; raises ValidationError
    with field errors."""
    email = User.objects.normalize_email(email or "").strip().lower()
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter your name.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_("Use at most %(count)s characters.") % {"count": NAME_MAX_LENGTH}]
    else:
        # The name goes into emails: one line, no control characters, as contest names.
        try:
            validate_single_line(name)
        except ValidationError as error:
            errors["name"] = list(error.messages)
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
            user = User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError:  # two sign-ups with one address at the same moment
        raise ValidationError(
            {"email": [_("An account with this email already exists.")]}
        ) from None
    try:
        _send_confirmation_email(user)
    except Exception:
        # The account stands: the dashboard offers to send the link again.
        logger.exception(
            "confirmation email not sent to organizer %s",
            user.pk,
            extra={"event": "confirmation_email_failed", "user_id": user.pk},
        )
    return user


def organizer_confirmation_email_send(*, user: User) -> None:
    """Send the confirmation link again. Raises ValidationError when the address is confirmed
    already, LimitReached within CONFIRMATION_EMAIL_INTERVAL of the last one."""
    if user.email_confirmed_at is not None:
        raise ValidationError(_("Your email address is already confirmed."), code="confirmed")
    # add() succeeds for one caller only, on every web instance: the cache is shared.
    if not cache.add(_last_email_key(user), time.time(), CONFIRMATION_EMAIL_INTERVAL):
        sent_at = cache.get(_last_email_key(user)) or time.time()
        wait = CONFIRMATION_EMAIL_INTERVAL - (time.time() - sent_at)
        minutes = max(1, math.ceil(wait / 60))
        raise LimitReached(
            _("We sent you a link a moment ago. You can ask for another in %(minutes)s minutes.")
            % {"minutes": minutes},
            retry_after=wait,
        )
    _send_confirmation_email(user)


def organizer_confirm_email(*, token: str) -> User:
    """Mark the address the token was mailed to as confirmed; ValidationError when the link is
    forged, expired, already used, or for an address the account no longer has."""
    user = tokens.confirmation_token_user(token)
    now = timezone.now()
    # Conditional, so two clicks at once confirm once and the second sees a used link.
    confirmed = User.objects.filter(
        pk=user.pk, email=user.email, email_confirmed_at__isnull=True
    ).update(email_confirmed_at=now)
    if not confirmed:
        raise ValidationError(
            _("This confirmation link is not valid or was already used."), code="invalid"
        )
    user.email_confirmed_at = now
    logger.info(
        "organizer %s confirmed their email address",
        user.pk,
        extra={"event": "email_confirmed", "user_id": user.pk},
    )
    return user


def organizer_can_receive_entries(user: User) -> bool:
    """Whether the organizer's contests may take entries: an active, confirmed account."""
    return bool(user.is_active and user.email_confirmed_at is not None)


def _last_email_key(user: User) -> str:
    return f"accounts:confirmation-email:{user.pk}"


def _send_confirmation_email(user: User) -> None:
    """The link, in the active language (the page's or the API request's)."""
    cache.set(_last_email_key(user), time.time(), CONFIRMATION_EMAIL_INTERVAL)
    link = settings.WEB_URL + reverse("confirm-email", args=[tokens.confirmation_token(user)])
    context = {"user": user, "link": link, "days": tokens.MAX_AGE.days}
    subject = " ".join(render_to_string("accounts/email/confirm_subject.txt", context).split())
    body = render_to_string("accounts/email/confirm.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        cache.delete(_last_email_key(user))  # not sent: asking again must work
        raise
    logger.info(
        "confirmation email sent to organizer %s",
        user.pk,
        extra={"event": "confirmation_email_sent", "user_id": user.pk},
    )
