"""Sending SMS: one small interface, chosen by the `SMS_BACKEND` setting (a dotted class path).

A real gateway plugs in as a class with the same `send` method; it should pass `reference` (the
notification's dedupe key) to the gateway as the client's message id where the gateway offers one,
so a message the gateway already accepted is not sent again.
"""

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A message could not be sent. `permanent` errors (a wrong number) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class SmsBackend:
    def send(self, *, to: str, text: str, reference: str) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Writes each message to standard output (development, `make run`)."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        sys.stdout.write(f"SMS to {to} [{reference}]: {text}\n")
        sys.stdout.flush()


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    reference: str


class LocmemSmsBackend(SmsBackend):
    """Keeps messages in `outbox` (tests). `failures` holds exceptions to raise, one per send."""

    outbox: list[SentSms] = []
    failures: list[Exception] = []

    def send(self, *, to: str, text: str, reference: str) -> None:
        if LocmemSmsBackend.failures:
            raise LocmemSmsBackend.failures.pop(0)
        LocmemSmsBackend.outbox.append(SentSms(to=to, text=text, reference=reference))


class FileSmsBackend(SmsBackend):
    """Appends one JSON line per message to `SMS_FILE_PATH`: what tests of real worker processes
    read. `SMS_FILE_DELAY` (seconds, environment) makes each send take that long, after writing a
    `sending` line, so a test can stop a worker in the middle of a send."""

    _lock = threading.Lock()

    def send(self, *, to: str, text: str, reference: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        delay = float(os.environ.get("SMS_FILE_DELAY", "0"))
        if delay:
            self._append(path.with_suffix(".sending"), {"reference": reference})
            time.sleep(delay)
        self._append(path, {"to": to, "text": text, "reference": reference})

    def _append(self, path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            # One write of one line with O_APPEND: lines of concurrent processes never interleave.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
