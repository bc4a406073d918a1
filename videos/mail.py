"""Mail: the embedded setup's backend (each message one .eml file), and which failures last."""

import os
import re
import smtplib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = _file_name(message.extra_headers.get("Message-ID", ""))
            partial = self.folder / (name + ".part")
            partial.write_bytes(message.message().as_bytes(linesep="\n"))
            # Readers never see half a message: the .eml name appears complete or not at all.
            os.replace(partial, self.folder / name)
        return len(email_messages)


def permanent_failure(error: Exception) -> bool:
    """True when sending again cannot help: the message or its recipient is refused.

    Anything else (a server that does not answer, throttling, a full mailbox on the way) is
    temporary and tried again.
    """
    from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused

    if isinstance(error, BadHeaderError | AnymailRecipientsRefused | AnymailInvalidAddress):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    if isinstance(error, smtplib.SMTPDataError):  # the server refused this message's content
        return 500 <= error.smtp_code < 600  # 4xx are "try again later"
    # SES answers MessageRejected for an unverified sender too: the operator's to fix, so it
    # stays temporary like every other API error.
    return False


def _file_name(message_id: str) -> str:
    """A message sent again under the same Message-ID replaces its file: one email, not two."""
    key = re.sub(r"[^A-Za-z0-9.@-]", "", message_id)[:150]
    if key:
        return f"{key}.eml"
    return f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"


def message_id(video) -> str:
    """One Message-ID per entry and outcome: the same email sent twice is recognisably one."""
    host = urlsplit(settings.WEB_URL).hostname or "localhost"
    return f"<{video.id}.{video.status}@{host}>"
