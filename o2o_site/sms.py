"""Text messages, sent through the backend SMS_BACKEND names (as EMAIL_BACKEND names the e-mail
one): `send_sms(to=..., body=...)`. Two backends ship: ConsoleBackend prints each message (the
embedded defaults) and FileBackend writes each to a file of its own in SMS_FILE_PATH (the demo,
and tests, which read the code a shopper was sent from there). A gateway is a class with
`send_messages(messages) -> int`, configured the same way."""

import datetime
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TextMessage:
    """One message: `to` in E.164 (+3545551234), `body` plain text, from SMS_FROM."""

    to: str
    body: str
    sender: str = ""


class ConsoleBackend:
    """Prints each message to stdout."""

    _lock = threading.Lock()

    def send_messages(self, messages: list[TextMessage]) -> int:
        with self._lock:
            for message in messages:
                sys.stdout.write(f"SMS from {message.sender} to {message.to}:\n{message.body}\n{'-' * 40}\n")
            sys.stdout.flush()
        return len(messages)


class FileBackend:
    """Writes each message to `<SMS_FILE_PATH>/<UTC time>-<random>.txt`: a `To:` line, a blank
    line and the body. Messages to one number are found by its `To:` line."""

    def send_messages(self, messages: list[TextMessage]) -> int:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S-%f")
            path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.txt"
            path.write_text(f"From: {message.sender}\nTo: {message.to}\n\n{message.body}\n", encoding="utf-8")
        return len(messages)


def messages_in(folder: str | Path, *, to: str) -> list[str]:
    """The bodies FileBackend wrote to `folder` for the number `to`, oldest first."""
    bodies = []
    for path in sorted(Path(folder).glob("*.txt")):
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        if f"\nTo: {to}" in "\n" + head:
            bodies.append(body.rstrip("\n"))
    return bodies


def send_sms(*, to: str, body: str) -> int:
    """Send one text message to `to` (E.164) through SMS_BACKEND; returns how many were sent."""
    backend = import_string(settings.SMS_BACKEND)()
    return backend.send_messages([TextMessage(to=to, body=body, sender=settings.SMS_FROM)])
