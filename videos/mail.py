"""Mail backend of the embedded setup: each message becomes one .eml file."""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
            partial = self.folder / (name + ".part")
            partial.write_bytes(message.message().as_bytes(linesep="\n"))
            # Readers never see half a message: the .eml name appears complete or not at all.
            os.replace(partial, self.folder / name)
        return len(email_messages)
