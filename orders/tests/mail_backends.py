"""E-mail backends for tests only, selected with EMAIL_BACKEND (also in a worker's environment).

- FailingBackend: the mail server refuses every message (smtplib.SMTPServerDisconnected).
- RecordingBackend: writes each message to MAIL_DIR/<Message-ID>.eml and can say afterwards
  whether it accepted a message (delivery_status), like a transactional mail API. With
  MAIL_PAUSE=before or MAIL_PAUSE=after, the first send writes MAIL_DIR/paused-<when> (holding
  the id of the process sending) and waits (up to a minute) before or after accepting the
  message, so a test can SIGKILL that process right there; later sends do not pause.
"""

import os
import smtplib
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

PAUSE_LIMIT = 60


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail.example.com closed the connection")


class RecordingBackend(BaseEmailBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(os.environ["MAIL_DIR"])
        self.pause = os.environ.get("MAIL_PAUSE", "")

    def send_messages(self, email_messages):
        for message in email_messages:
            self._pause_if("before")
            message_id = message.extra_headers["Message-ID"]
            target = self.directory / f"{_file_name(message_id)}.eml"
            if target.exists():
                # A second copy of the same message: keep every copy, so a test can count them.
                target = self.directory / f"{_file_name(message_id)}.{time.time_ns()}.eml"
            target.write_bytes(message.message().as_bytes())
            self._pause_if("after")
        return len(email_messages)

    def delivery_status(self, message_id):
        return any(self.directory.glob(f"{_file_name(message_id)}*.eml"))

    def _pause_if(self, when):
        marker = self.directory / f"paused-{when}"
        if self.pause != when or marker.exists():
            return
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + PAUSE_LIMIT
        while time.monotonic() < deadline:
            time.sleep(0.1)


def _file_name(message_id):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in message_id.strip("<>"))
