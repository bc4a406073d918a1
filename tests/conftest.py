"""Shared fixtures. Alice organizes contests; Bob is another organizer who must never see them;
both confirmed their email address. Nina (newcomer) has not confirmed hers yet."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from contests.models import Contest
from tests.media import make_clip, make_damaged_clip


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user(
        email="alice@example.com",
        password="alice-secret-1",
        name="Alice",
        email_confirmed_at=timezone.now(),
    )


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user(
        email="bob@example.com",
        password="bob-secret-1",
        name="Bob",
        email_confirmed_at=timezone.now(),
    )


@pytest.fixture
def newcomer(db) -> User:
    """Nina signed up but has not opened the link emailed to her yet."""
    return User.objects.create_user(email="nina@example.com", password="nina-secret-1", name="Nina")


@pytest.fixture
def contest(alice) -> Contest:
    now = timezone.now()
    return Contest.objects.create(
        owner=alice,
        name="Summer shorts",
        slug="summer-shorts",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
        prize="A camera",
        description="Show us your summer.",
        rules="One video each.",
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user: User) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return client_for(bob)


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """One-second FLV, WMV and AVI clips, and files that are not videos."""
    folder = tmp_path_factory.mktemp("clips")
    made = {suffix: make_clip(folder / f"clip{suffix}") for suffix in (".flv", ".wmv", ".avi")}
    text = folder / "notes.avi"
    text.write_text("this is a text file with a video's name\n" * 100)
    made["text"] = text
    made["damaged"] = make_damaged_clip(folder / "damaged.avi")
    return made


@pytest.fixture(scope="session")
def moto_server():
    """A local AWS for the whole run; tests make their own buckets, queues and secrets."""
    from tests.servers import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def collected_static(django_test_environment):
    """Pages (error pages included) link hashed static files, as in production: collected
    once for the whole run, whichever test renders a page first."""
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def database_server():
    """The run's database server: skip (locally) or fail (CI) when it is not answering, and a
    database of the run's own for the processes tests start."""
    from django.conf import settings

    from tests import databases

    with databases.for_processes(settings.DATABASES["default"]):
        yield
