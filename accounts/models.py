from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An organizer: signs in with an email address and owns contests."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when the organizer follows the link emailed at sign-up; until then their contests
    # take no entries, so an account with a made-up address cannot send mail to anyone.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        # Every change of password (the change and reset pages, `changepassword`) is
        # set_password() then save(); Django keeps the new one in _password until then, and
        # not when it merely re-hashes the same password at a log-in. It calls
        # password_changed() on the same condition. Once saved, the API token made with the
        # old password stops working.
        changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if changed:
            from accounts.services import organizer_password_changed  # it imports this module

            organizer_password_changed(user=self)
