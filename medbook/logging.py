"""Log lines: no mobile or national ID number in any of them, 4xx in one line, queries left out of
access lines, and JSON lines for a log collector (``LOG_FORMAT=json``)."""

from __future__ import annotations

import json
import logging
import re
import time

from .personal_data import mask_national_id, mask_phone

PHONE = re.compile(r"(?<![\d\w])(?:\+?86)?1[3-9]\d{9}(?!\d)")
NATIONAL_ID = re.compile(r"(?<![\d\w])\d{17}[\dXx](?![\d\w])")


def mask_text(text: str) -> str:
    text = NATIONAL_ID.sub(lambda m: mask_national_id(m.group(0).upper()), text)
    return PHONE.sub(lambda m: mask_phone("+86" + m.group(0)[-11:]), text)


class MaskPersonalData(logging.Filter):
    """Formats the record's message and masks what looks like a phone or ID number in it (also
    in exception text), so no handler ever writes them in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


class ClientErrorsInOneLine(logging.Filter):
    """A 4xx (a refused permission above all: Django logs a PermissionDenied with its traceback)
    is the client's doing, not a fault: one line, status and path, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class QuerylessRequestLines(logging.Filter):
    """The development server's access log (``django.server``, what ``dev.py run`` serves with)
    without query strings: ``"GET /staff/members/?…" 200`` — as gunicorn_conf does in production."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            line = record.args[0]
            if "?" in line:
                method_path, space, protocol = line.rpartition(" ")
                path = method_path.split("?", 1)[0] + "?…"
                record.args = (f"{path}{space}{protocol}" if space else path, *record.args[1:])
        return True


# The request fields an access line carries (medbook.metrics.RequestMetricsMiddleware).
ACCESS_FIELDS = ("method", "path", "view", "status", "duration_ms", "user_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``) for a log collector: time, level, logger,
    message, the request id, and an access line's method, path (never its query), route, status,
    duration and user id. The message is masked before it gets here (MaskPersonalData)."""

    converter = time.gmtime  # the "Z" of the time field

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)
