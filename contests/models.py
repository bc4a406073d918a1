import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contests.validators import validate_banner, validate_single_line, validate_text

# Top-level paths the site uses itself; a contest cannot take them as its address.
RESERVED_SLUGS = {
    "admin", "api", "accounts", "dashboard", "media", "static", "contests", "videos",
    "health", "login", "logout", "signup", "password", "favicon.ico", "robots.txt",
}  # fmt: skip


def validate_slug_not_reserved(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(value)s” is reserved by the site; choose another address.") % {"value": value}
        )


def banner_path(contest: "Contest", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    # A fresh name per upload, so browsers and CDNs never show a replaced banner from cache.
    return f"banners/{contest.slug}-{secrets.token_hex(4)}.{extension}"


def default_entries_per_email() -> int:
    return settings.ENTRIES_PER_EMAIL


class Contest(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contests"
    )
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line])
    slug = models.SlugField(
        _("address (URL)"),
        max_length=80,
        unique=True,
        validators=[validate_slug_not_reserved],
        help_text=_("The contest's own address: letters, numbers and hyphens."),
    )
    banner = models.ImageField(
        _("banner"), upload_to=banner_path, blank=True, validators=[validate_banner]
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    prize = models.CharField(
        _("prize"), max_length=300, blank=True, validators=[validate_single_line]
    )
    description = models.TextField(_("description"), blank=True, validators=[validate_text])
    rules = models.TextField(_("rules"), blank=True, validators=[validate_text])
    max_entries_per_email = models.PositiveSmallIntegerField(
        _("entries per participant"),
        default=default_entries_per_email,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("How many videos one email address may enter."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contest", args=[self.slug])

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The contest must end after it starts.")})

    def is_organized_by(self, user) -> bool:
        """Whether `user` (anonymous, None or an account) is this contest's organizer."""
        return user is not None and user.is_authenticated and self.owner_id == user.id

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at

    def state(self, now=None) -> str:
        """The state: "soon" before it opens, "open" while it takes entries, "closed" after."""
        now = now or timezone.now()
        if self.is_open(now):
            return "open"
        return "soon" if now < self.starts_at else "closed"

    def public_url(self) -> str:
        return settings.WEB_URL + self.get_absolute_url()
