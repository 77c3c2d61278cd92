"""What the sandbox checks in custom-audience calls, and how it refuses them.

Meta documents the upload format (``payload`` with ``schema`` and ``data``, at
most 10,000 rows, ``session`` for multi-batch uploads) and the normalisation
of each key, but at upload time it only counts rows it cannot use. The
sandbox refuses instead: a value that is not a SHA-256 hex digest, or one
that is the hash of a person it knows with the normalisation skipped
(capitals in an e-mail, ``+`` in a phone number), fails the call with code 100
and says which row and key, so a connector's hashing bug fails its tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from connectors.meta.audience import SCHEMA, is_hashed

__all__ = ["MAX_ROWS", "AudienceCheck", "Member", "Refused"]

MAX_ROWS = 10_000
SOURCES = frozenset(
    {"USER_PROVIDED_ONLY", "PARTNER_PROVIDED_ONLY", "BOTH_USER_AND_PARTNER_PROVIDED"}
)
Member = frozenset[tuple[str, str]]
"""One person in an audience: the (key, hash) pairs uploaded for them, empty ones left out."""


class Refused(Exception):
    """A call the sandbox answers with Meta's error; ``code`` is ``code`` or ``code/subcode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class AudienceCheck:
    """Validates audience creation and uploads; knows some people's raw identifiers."""

    def __init__(self) -> None:
        self._wrong: dict[str, str] = {}
        self._sessions: dict[int, tuple[int, bool]] = {}

    def know(self, **identifiers: str) -> None:
        """Remember the hashes of ``identifiers`` as they look before normalisation."""
        keys = {
            "email": "EMAIL",
            "phone": "PHONE",
            "first_name": "FN",
            "last_name": "LN",
            "city": "CT",
        }
        for name, raw in identifiers.items():
            key = keys[name]
            for variant in {raw, raw.upper(), f" {raw} "}:
                if variant != variant.strip().lower() or key == "PHONE" or " " in variant:
                    self._wrong[_sha(variant)] = f"{key} was hashed before it was normalised"

    def new_audience(self, form: Mapping[str, str]) -> dict[str, Any]:
        if not form.get("name"):
            raise Refused("100", "(#100) The parameter name is required")
        if form.get("subtype") != "CUSTOM":
            raise Refused("100", "(#100) A customer list audience needs subtype=CUSTOM")
        if form.get("customer_file_source") not in SOURCES:
            raise Refused(
                "100/1870090",
                "(#100) customer_file_source must say where the list came from: "
                + ", ".join(sorted(SOURCES)),
            )
        return {
            "name": form["name"],
            "subtype": "CUSTOM",
            "customer_file_source": form["customer_file_source"],
            "members": set(),
        }

    def upload(self, audience: dict[str, Any], form: Mapping[str, str]) -> set[Member]:
        """The members one ``/users`` call names, after checking payload and session."""
        try:
            payload = json.loads(form["payload"])
            schema = payload["schema"]
            data = payload["data"]
        except (KeyError, ValueError, TypeError):
            raise Refused("100", "(#100) payload must be JSON with schema and data") from None
        schema = [schema] if isinstance(schema, str) else schema
        unknown = [key for key in schema if key not in SCHEMA]
        if not isinstance(schema, list) or not schema or unknown:
            raise Refused("100", f"(#100) Invalid schema key(s) {unknown or schema}")
        if not isinstance(data, list) or not data:
            raise Refused("100", "(#100) payload.data must hold at least one row")
        if len(data) > MAX_ROWS:
            raise Refused("100", f"(#100) At most {MAX_ROWS} rows per request, not {len(data)}")
        if "session" in form:
            self._session(form["session"])
        return {self._member(schema, row, number) for number, row in enumerate(data)}

    def _member(self, schema: list[str], row: Any, number: int) -> Member:
        if not isinstance(row, list) or len(row) != len(schema):
            raise Refused("100", f"(#100) Row {number} does not have one value per schema key")
        member = []
        for key, value in zip(schema, row, strict=True):
            if value == "":
                continue
            if not isinstance(value, str) or not is_hashed(value):
                raise Refused(
                    "100", f"(#100) Row {number}: {key} is not a SHA-256 hash of a normalised value"
                )
            if value in self._wrong:
                raise Refused("100", f"(#100) Row {number}: {self._wrong[value]}")
            member.append((key, value))
        if not member:
            raise Refused("100", f"(#100) Row {number} has no identifier")
        return frozenset(member)

    def _session(self, text: str) -> None:
        try:
            session = json.loads(text)
            number, seq = int(session["session_id"]), int(session["batch_seq"])
            last = bool(session["last_batch_flag"])
        except (KeyError, ValueError, TypeError):
            raise Refused(
                "100", "(#100) session needs session_id, batch_seq and last_batch_flag"
            ) from None
        previous, closed = self._sessions.get(number, (0, False))
        if closed and seq != previous:
            raise Refused("100", f"(#100) Session {number} has ended; start a new one")
        if seq not in (previous, previous + 1):
            raise Refused(
                "100", f"(#100) Session {number} expected batch_seq {previous + 1}, got {seq}"
            )
        self._sessions[number] = (seq, last)
