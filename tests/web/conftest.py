"""Browsers for the HTML pages: anonymous, Alice (the organizer) and Bob (another organizer)."""

import pytest
from django.test import Client

from tests.media import make_clip
from tests.web.helpers import make_contest


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return logged_in(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return logged_in(bob)


@pytest.fixture
def browsers(client, alice_client, bob_client) -> dict[str, Client]:
    return {"anonymous": client, "alice": alice_client, "bob": bob_client}


@pytest.fixture
def bob_contest(bob):
    return make_contest(bob, "bobs-contest", name="Bob's contest")


@pytest.fixture(scope="session")
def mp4(tmp_path_factory):
    """A real, browser-ready MP4, as the conversion stores it."""
    return make_clip(tmp_path_factory.mktemp("mp4") / "clip.mp4")
