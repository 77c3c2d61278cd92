"""Keeping secrets out of everything crmhub writes down.

Dead letters keep a record's raw payload so a person can see what was wrong,
which means a vendor echoing a token, or a column named ``password``, would
otherwise land in the store. Payloads are scrubbed by key name and by the
connection's own secret values before they are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["REDACTED", "scrub", "secret_values"]

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|access[_-]?key|authorization|credential", re.I
)


def secret_values(model: BaseModel) -> list[str]:
    """Every SecretStr/SecretBytes value in a config model, nested ones included."""
    found: list[str] = []
    for value in model.__dict__.values():
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            found.append(value.get_secret_value().decode(errors="replace"))
        elif isinstance(value, BaseModel):
            found.extend(secret_values(value))
    return [secret for secret in found if secret]


def scrub(payload: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``payload`` with secret-looking keys and known secret values masked."""
    known = [secret for secret in secrets if secret]
    return _scrub(payload, known)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEY.search(str(key)) else _scrub(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    return value
