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

__all__ = ["REDACTED", "mask", "scrub", "secret_values"]

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
    return _scrub(payload, _longest_first(secrets))


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret value masked.

    Longest first: a secret that contains another would otherwise be left
    half visible once the shorter one inside it is masked.
    """
    return _mask(text, _longest_first(secrets))


def _longest_first(secrets: Iterable[str]) -> list[str]:
    return sorted({secret for secret in secrets if secret}, key=len, reverse=True)


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEY.search(str(key)) else _scrub(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str):
        return _mask(value, secrets)
    return value
