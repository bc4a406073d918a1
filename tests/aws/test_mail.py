"""Mail of the distributed setup: Amazon SES (on moto) or an SMTP server, chosen by the keys."""

import email
import smtplib
import uuid
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from anymail.exceptions import AnymailAPIError
from django.utils import timezone

from config import mail
from config.loader import ConfigError
from tests.aws.conftest import configure, sent_through_ses
from tests.servers import free_port
from videos import services
from videos.models import Video


@pytest.fixture
def ready_video(contest) -> Video:
    return Video.objects.create(
        contest=contest, first_name="Ana", last_name="Diaz",
        email=f"ana-{uuid.uuid4().hex[:8]}@example.com", original="originals/x.avi",
        status=Video.Status.READY, finished_at=timezone.now(),
    )  # fmt: skip


def backend(**keys: str) -> str:
    return mail.email_settings(configure(**keys), Path("var"))["EMAIL_BACKEND"]


def test_the_keys_choose_the_backend():
    assert backend() == "videos.mail.EmlFileBackend"
    assert backend(ses_email="videos@example.org") == "anymail.backends.amazon_ses.EmailBackend"
    assert backend(smtp_host="mail.example.org") == "django.core.mail.backends.smtp.EmailBackend"
    # A deployment keeping the seed's secret (ses_email) may still send through SMTP.
    both = {"ses_email": "videos@example.org", "smtp_host": "mail.example.org"}
    assert backend(**both) == "django.core.mail.backends.smtp.EmailBackend"


def test_the_sender_is_ses_email_unless_email_from_says_otherwise():
    def sender(**keys):
        return mail.email_settings(configure(**keys), Path("var"))["DEFAULT_FROM_EMAIL"]

    assert sender(ses_email="videos@example.org") == "videos@example.org"
    assert sender(ses_email="videos@example.org", email_from="VideoShare <videos@example.org>") == (
        "VideoShare <videos@example.org>"
    )


@pytest.mark.parametrize("keys", [{"ses_email": "not an address"}, {"smtp_port": "smtp"}])
def test_a_malformed_mail_key_stops_start_up_naming_it(keys):
    with pytest.raises(ConfigError, match=next(iter(keys))):
        mail.email_settings(configure(smtp_host="mail.example.org", **keys), Path("var"))


# ---------------------------------------------------------------- SES on moto


def test_the_ready_email_goes_out_through_ses(aws, use_mail, ready_video):
    import boto3

    sender = f"videos-{uuid.uuid4().hex[:8]}@example.org"
    boto3.client("ses").verify_email_identity(EmailAddress=sender)  # SES sends only from these
    use_mail(ses_email=sender)

    assert services.participant_notify(video_id=ready_video.id) is True
    (message,) = sent_through_ses(aws, ready_video.email)
    assert message["From"] == sender
    assert message["To"] == ready_video.email
    assert "is ready" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert f"/summer-shorts/videos/{ready_video.id}/" in body


def test_a_refused_ses_email_stays_due_for_a_retry(aws, use_mail, ready_video):
    use_mail(ses_email="never-verified@example.org")
    with pytest.raises(AnymailAPIError):
        services.participant_notify(video_id=ready_video.id)
    ready_video.refresh_from_db()
    assert ready_video.notified_at is None
    assert sent_through_ses(aws, ready_video.email) == []


# ---------------------------------------------------------------- a real SMTP server


class Recorder:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((session, envelope))
        return "250 OK"


def only_videoshare(server, session, envelope, mechanism, auth_data):
    # handled=False: aiosmtpd answers a refusal itself (535)
    ok = (auth_data.login, auth_data.password) == (b"vs", b"mail-secret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    # Plain text on loopback: no certificate to make, so AUTH is allowed without TLS here.
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(),
        authenticator=only_videoshare, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield controller, recorder
    controller.stop()


def smtp_keys(controller, password: str) -> dict[str, str]:
    return {
        "smtp_host": controller.hostname, "smtp_port": str(controller.port),
        "smtp_user": "vs", "smtp_password": password, "smtp_tls": "false",
        "email_from": "VideoShare <videos@example.org>",
    }  # fmt: skip


def test_the_ready_email_goes_out_through_smtp(use_mail, smtp_server, ready_video):
    controller, recorder = smtp_server
    use_mail(**smtp_keys(controller, "mail-secret"))

    assert services.participant_notify(video_id=ready_video.id) is True
    ((session, envelope),) = recorder.received
    assert session.authenticated
    assert envelope.mail_from == "videos@example.org"
    assert envelope.rcpt_tos == [ready_video.email]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["From"] == "VideoShare <videos@example.org>"
    assert "is ready" in message["Subject"]
    assert f"/videos/{ready_video.id}/" in message.get_body(("plain",)).get_content()


def test_a_wrong_smtp_password_leaves_the_email_due(use_mail, smtp_server, ready_video):
    controller, recorder = smtp_server
    use_mail(**smtp_keys(controller, "wrong"))
    with pytest.raises(smtplib.SMTPAuthenticationError):
        services.participant_notify(video_id=ready_video.id)
    ready_video.refresh_from_db()
    assert ready_video.notified_at is None
    assert recorder.received == []
