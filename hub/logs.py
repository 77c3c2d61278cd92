"""Log records for machines: one JSON object per line, with the run they belong to.

A service's log is read by a pipeline (journald, Loki, CloudWatch) more than by
a person, and a pipeline wants fields, not a sentence to parse. Whatever the
output format, the engine says which connection, stream and run a line is
about once, with :func:`log_context`, instead of repeating it in every message;
the JSON formatter writes those fields beside the message.

Secrets never reach a log line: :class:`SecretMask` replaces the known secret
values (every connection's credentials, the store's password) in the message
and in a traceback before any handler sees the record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from hub.redact import mask

__all__ = ["JsonFormatter", "SecretMask", "current_context", "log_context"]

_context: ContextVar[dict[str, Any] | None] = ContextVar("crmhub_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` (connection, stream, run_id ...) to every record logged inside.

    A context variable, so it follows the work into ``asyncio.to_thread`` and
    does not leak between connections running side by side on one loop.
    """
    token = _context.set({**current_context(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    """The fields of the innermost :func:`log_context`, a copy to keep."""
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", <context fields>, "exception"?}``, one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "crmhub_context", None) or current_context())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class SecretMask(logging.Filter):
    """Masks known secret values in a record's message and traceback, for every handler.

    Attached to handlers (a logger's filters do not see records from its
    children). The message is rendered once here so that a secret passed as
    an argument is masked too; the record's context is captured at the same
    moment.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        record.crmhub_context = current_context()
        if not self.secrets:
            return True
        record.msg, record.args = self._mask(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # the masked text stands in for the traceback a handler would render
            record.exc_text, record.exc_info = self._mask(record.exc_text), None
        return True

    def _mask(self, text: str) -> str:
        return mask(text, self.secrets)
