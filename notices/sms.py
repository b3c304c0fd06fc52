"""Sending SMS: one small interface, chosen by the `SMS_BACKEND` setting (a dotted class path).

A real gateway plugs in as a class with the same `send` method; it should pass `reference` (the
notification's dedupe key) to the gateway as the client's message id where the gateway offers one,
so a message the gateway already accepted is not sent again.
"""

import fcntl
import json
import logging
import os
import sys
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
    """A gateway on disk, for tests of real worker processes: each message it accepts is one
    JSON line in `SMS_FILE_PATH`. Like a gateway that takes a client's message id, it accepts a
    reference once: a message offered again under a reference it has (a worker killed between the
    gateway's acceptance and its commit) is not sent to the phone again, and is written to
    `<file>.repeated`, so a test sees how often that happened. `SMS_FILE_DELAY` (seconds,
    environment) makes each send take that long, after writing a `.sending` line, so a test can
    stop a worker in the middle of a send."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        delay = float(os.environ.get("SMS_FILE_DELAY", "0"))
        if delay:
            self._append(path.with_suffix(".sending"), {"reference": reference})
            time.sleep(delay)
        # The file's lock spans reading the references and appending, across worker processes.
        with path.open("a+b") as accepted:
            fcntl.flock(accepted, fcntl.LOCK_EX)
            accepted.seek(0)
            if any(json.loads(line)["reference"] == reference for line in accepted if line.strip()):
                self._append(path.with_suffix(".repeated"), {"reference": reference})
                return
            accepted.write(self._line({"to": to, "text": text, "reference": reference}))
            accepted.flush()

    @staticmethod
    def _line(record: dict) -> bytes:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode()

    def _append(self, path: Path, record: dict) -> None:
        # One write of one line with O_APPEND: lines of concurrent processes never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, self._line(record))
        finally:
            os.close(fd)


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
