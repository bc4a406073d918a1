"""VideoShare's distributed setup on a local AWS (moto's server), configured by its keys alone."""

import email
import uuid
from email import policy

import pytest
import requests
from django.core.files.storage import storages

from config import loader, mail, storage
from videos.models import Video


@pytest.fixture
def aws(moto_server, monkeypatch):
    """boto3 in this process (ours, django-storages', anymail's) talks to the moto server."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def s3(aws):
    import boto3

    return boto3.client("s3")


@pytest.fixture
def bucket(s3) -> str:
    name = f"videoshare-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def configure(**keys: str) -> dict[str, str]:
    """The configuration a deployment with these keys gets (environment only, no config.conf)."""
    environ = {f"VIDEOSHARE_{key.upper()}": value for key, value in keys.items()}
    return loader.load(environ=environ, config_file=None)


@pytest.fixture
def use_storages(settings, monkeypatch, tmp_path):
    """Switch this test's files to the storages the keys choose, as config/settings.py does."""

    def use(**keys: str) -> dict[str, str]:
        config = configure(**keys)
        settings.STORAGES = storage.storages(config, tmp_path)
        # Django calls Video.original's storage callable once, when models load.
        monkeypatch.setattr(Video._meta.get_field("original"), "storage", storages["originals"])
        return config

    return use


@pytest.fixture
def use_mail(settings, tmp_path):
    """Switch this test's outgoing mail to the backend the keys choose."""

    def use(**keys: str) -> dict[str, str]:
        config = configure(**keys)
        for name, value in mail.email_settings(config, tmp_path).items():
            setattr(settings, name, value)
        return config

    return use


def sent_through_ses(aws, address: str) -> list[email.message.EmailMessage]:
    """What moto's SES accepted for this address (its state, over moto's own API)."""
    state = requests.get(f"{aws.url}/moto-api/data.json", timeout=10).json()
    return [
        email.message_from_string(sent["raw_data"], policy=policy.default)
        for sent in state["ses"]["RawMessage"]
        if address in sent["destinations"]
    ]
