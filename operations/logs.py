"""Logs: one JSON object a line, each with its request's id, and never a full citizen ID number.

Every handler of every process carries `MaskIdNumbers` (the web process's through `LOGGING`,
gunicorn's through `deploy/gunicorn.conf.py`, Celery's through `config.celery`), so whatever
a log line quotes — a URL with `?q=<id number>`, a message, an exception, an extra field — shows
an ID number only masked. This module is imported by gunicorn's master before Django is set up:
it must not read the settings or the models.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import re
import uuid

from django.core.signals import request_finished
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from units.identifiers import ID_NUMBER_LENGTH, mask_id_number

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# An 18-character ID number is 17 digits and a check character (a digit or X). Any run of 17
# or more digits is masked, not only valid numbers: a mistyped number is still personal, and a
# number inside a longer run of digits would otherwise survive. `\d` also matches full-width
# digits, as a pasted number may have them.
_ID_LIKE = re.compile(r"(?<![\d.])\d{17,}[XxＸｘ]?")

# The attributes every LogRecord has; the others were added by `extra=` and are masked too.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}

# What a request may send as its X-Request-ID (a proxy's id is kept, so its log and ours join).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUEST_ID_HEADER = "X-Request-ID"


def _masked(value: object, depth: int = 0) -> object:
    """A field added with `extra=`, masked: text and containers through, numbers kept, any other
    object as its masked text (Django's `request` extra shows the URL with its query string)."""
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth < 4 and isinstance(value, dict):
        return {key: _masked(item, depth + 1) for key, item in value.items()}
    if depth < 4 and isinstance(value, list | tuple):
        return [_masked(item, depth + 1) for item in value]
    return mask_text(str(value))


def _mask_match(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == ID_NUMBER_LENGTH:
        return mask_id_number(run)
    return run[:6] + "*" * (len(run) - 10) + run[-4:]


def mask_text(text: str) -> str:
    """`text` with every ID-number-like run of digits masked as `mask_id_number` masks."""
    return _ID_LIKE.sub(_mask_match, text)


class MaskIdNumbers(logging.Filter):
    """Masks the record in place: its message (arguments merged in), its exception and stack
    text, and every field added with `extra=`. Safe to run twice on one record (a
    record passes the handlers of its logger and then those of its parents)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be shown
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info:
            # Formatters render exc_info afresh, unmasked: keep only the masked text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                setattr(record, key, _masked(value))
        return True


class RequestId(logging.Filter):
    """Adds `request_id`: the id of the request being served in this thread, or, on gunicorn's
    access log (written after the response), the id the response carried."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None):
            return True
        request_id = request_id_var.get()
        args = record.args
        if request_id == "-" and isinstance(args, dict):
            request_id = args.get("{x-request-id}o") or "-"
        record.request_id = request_id
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time, level, logger, process, request_id, message (and the
    exception, if any, as one string)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "fmt", "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s"
        )
        renamed = {"asctime": "time", "levelname": "level", "name": "logger"}
        kwargs.setdefault("rename_fields", renamed)
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):
        # ISO 8601 in UTC with milliseconds: one clock for every process and machine.
        moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        return moment.isoformat(timespec="milliseconds")


def protect_handler(handler: logging.Handler, *, json: bool) -> None:
    """Give a handler made outside `LOGGING` (Celery's) the filters and, if asked, the JSON
    format."""
    if not any(isinstance(f, RequestId) for f in handler.filters):
        handler.addFilter(RequestId())
    if not any(isinstance(f, MaskIdNumbers) for f in handler.filters):
        handler.addFilter(MaskIdNumbers())
    if json:
        handler.setFormatter(JsonFormatter())


def every_handler() -> list[tuple[str, logging.Handler]]:
    """(logger name, handler) for every handler attached to a logger of this process."""
    loggers = [("root", logging.getLogger())]
    loggers += [
        (name, logger)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    ]
    return [(name, handler) for name, logger in loggers for handler in logger.handlers]


class RequestIdMiddleware:
    """First in MIDDLEWARE: every log line of a request carries its id, and so does the
    response (`X-Request-ID`, which gunicorn's access log quotes). A well-formed id sent by
    the proxy is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the response is finished, not only while the middleware runs: Django logs
        # a refused or failed request (django.request) after the middleware has returned.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _request_over(**kwargs) -> None:
    request_id_var.set("-")


request_finished.connect(_request_over, dispatch_uid="operations.logs.request_over")
