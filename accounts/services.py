import logging
import math
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
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
from rest_framework.authtoken.models import Token

from accounts import tokens
from accounts.models import User
from api import throttles
from api.throttles import LimitReached
from contests.validators import validate_single_line

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = User._meta.get_field("name").max_length
# At most one confirmation email per account in this many seconds (sign-up's counts).
CONFIRMATION_EMAIL_INTERVAL = 5 * 60
# At most one "someone tried to sign up with your address" email per account in this many
# seconds: signing up again and again with someone's address must not flood their mailbox.
SIGNUP_NOTICE_INTERVAL = 60 * 60


def normalize_email(email: str) -> str:
    """An address as accounts are stored and looked up: trimmed, lower case."""
    return User.objects.normalize_email(email or "").strip().lower()


def organizer_sign_up(*, name: str, email: str, password: str) -> None:
    """Sign up: create the account and email it the confirmation link, or, when the address
    already has an account, email its owner that someone tried (pointing to password reset).

    Raises ValidationError with field errors, judged alike for taken and free addresses.
    Returns nothing: whoever signs up must not learn whether the address had an account, so
    pages and the API answer the same either way ("check your email").
    """
    email = normalize_email(email)
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
    try:
        validate_password(password or "", User(email=email, name=name))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name)
        except IntegrityError:  # two sign-ups with one address at the same moment
            existing = User.objects.filter(email=email).first()
        else:
            try:
                _send_confirmation_email(user)
            except Exception:
                # The account stands: the dashboard offers to send the link again.
                logger.exception(
                    "confirmation email not sent to organizer %s",
                    user.pk,
                    extra={"event": "confirmation_email_failed", "user_id": user.pk},
                )
            return
    # Hash the password anyway, so the answer takes as long as for a new account.
    make_password(password)
    if existing is not None and existing.is_active:
        _send_signup_notice(existing)


def _send_signup_notice(user: User) -> None:
    """Tell the owner of an address that someone tried to sign up with it; at most once every
    SIGNUP_NOTICE_INTERVAL. A failure is logged: the answer to the sign-up must not change."""
    key = f"accounts:signup-notice:{user.pk}"
    if not cache.add(key, time.time(), SIGNUP_NOTICE_INTERVAL):
        return
    context = {
        "user": user,
        "reset_link": settings.WEB_URL + reverse("password_reset"),
        "login_link": settings.WEB_URL + reverse("login"),
    }
    subject = " ".join(
        render_to_string("accounts/email/signup_attempt_subject.txt", context).split()
    )
    body = render_to_string("accounts/email/signup_attempt.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        cache.delete(key)
        logger.exception(
            "sign-up notice not sent to organizer %s",
            user.pk,
            extra={"event": "signup_notice_failed", "user_id": user.pk},
        )
        return
    logger.info(
        "sign-up with the address of organizer %s: notice sent",
        user.pk,
        extra={"event": "signup_notice_sent", "user_id": user.pk},
    )


def organizer_authenticate(*, request, email: str, password: str) -> User | None:
    """The active organizer with this email address and password, else None.

    Every password check goes through here (log-in page, admin, API token). Raises LimitReached
    while the address, or the client's network, has used up its failed log-ins for the window
    (login_failures_per_account, login_failures_per_address, login_window_minutes): then the
    password is not checked at all, so the right one is refused too until the window ends.
    Unknown addresses are counted like the others, so a refusal tells nothing.
    """
    attempt = throttles.attempt(
        throttles.LoginsPerNetwork(request), throttles.LoginsPerAccount(email)
    )
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is not None:
        attempt.give_back()  # only failures count
    return user


def password_reset_attempt(*, request, email: str) -> None:
    """Count a request for a password reset link; LimitReached beyond
    password_resets_per_account_hour for the address or password_resets_per_address_hour for
    the client's network. Unknown addresses count alike: the answer stays the same for them."""
    throttles.attempt(
        throttles.PasswordResetsPerNetwork(request), throttles.PasswordResetsPerAccount(email)
    )


def organizer_password_changed(*, user: User) -> None:
    """After a new password (changed, reset, `changepassword`): the API token made with the old
    one stops working at once, and the address's failed log-ins are forgotten (a locked-out
    owner gets back in by resetting the password)."""
    api_token_revoke(user=user)
    throttles.LoginsPerAccount(user.email).clear()
    logger.info(
        "organizer %s has a new password: API token revoked",
        user.pk,
        extra={"event": "password_changed", "user_id": user.pk},
    )


def api_token_issue(*, user: User) -> Token:
    """The organizer's API token: the one they have while it has not expired (every client of
    the account shares it), else a new one. Raises nothing."""
    token = Token.objects.filter(user=user).first()
    if token is not None and api_token_expires_at(token) > timezone.now():
        return token
    if token is not None:
        # By key: when two requests replace it at once, the second keeps the first's new one.
        Token.objects.filter(pk=token.pk).delete()
    token, _created = Token.objects.get_or_create(user=user)
    return token


def api_token_expires_at(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.TOKEN_LIFETIME_HOURS)


def api_token_revoke(*, user: User) -> None:
    """The organizer's API token stops working at once; the next log-in makes a new one."""
    Token.objects.filter(user=user).delete()


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
