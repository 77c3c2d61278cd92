"""Customer-file rows for custom audiences: Meta's normalisation rules, then SHA-256.

Meta matches people on hashes of identifiers, so a hash of ``Ann@X.com`` and
one of ``ann@x.com`` are different people to it: every value is normalised
exactly as the customer-file guide says before it is hashed, and only the hex
digests ever leave the hub (or are kept in it). The rules, per schema key:

- EMAIL: trimmed, lower case.
- PHONE: digits only, with the country code, no ``+`` or leading zeros
  (the hub keeps E.164, so that is the E.164 number without its ``+``).
- FN, LN: lower case, no punctuation or spaces; letters beyond a-z stay,
  in UTF-8.
- CT: lower case, a-z only (accents folded), no spaces or punctuation.
- ST: lower case, letters only (two-letter codes for US states).
- ZIP: lower case, no spaces or dashes; US ZIPs keep their first five digits.
- COUNTRY: ISO 3166-1 alpha-2, lower case.
- DOBY, DOBM, DOBD: ``YYYY``, ``MM``, ``DD``.
- GEN: ``f`` or ``m``.

A missing value is sent as an empty string, which Meta reads as "not given".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

from hub.model import Customer

__all__ = ["MATCH_KEYS", "SCHEMA", "hashed_row", "is_hashed", "normalized_row"]

SCHEMA = ("EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "DOBY", "DOBM", "DOBD", "GEN")
MATCH_KEYS = ("EMAIL", "PHONE")
"""Keys one of which a row needs to be matchable; the rest only sharpen a match."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _letters(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFC", value.lower()) if ch.isalpha())


def _ascii_letters(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded)


def _zip(postcode: str, country: str | None) -> str:
    value = re.sub(r"[\s\-]", "", postcode.lower())
    return value[:5] if country == "US" else value


_CLEAN: dict[str, Callable[[str], str]] = {
    "EMAIL": lambda v: v.strip().lower(),
    "PHONE": lambda v: re.sub(r"\D", "", v).lstrip("0"),
    "FN": _letters,
    "LN": _letters,
    "CT": _ascii_letters,
    "ST": _ascii_letters,
    "COUNTRY": lambda v: v.strip().lower(),
    "GEN": lambda v: v[:1].lower(),
}


def normalized_row(customer: Customer) -> dict[str, str]:
    """The customer's identifiers as Meta wants them before hashing; absent ones empty."""
    address = next((a for a in customer.addresses if a.city or a.postcode or a.country), None)
    country = address.country if address else None
    birth = customer.birth_date
    raw = {
        "EMAIL": customer.primary_email,
        "PHONE": customer.phones[0] if customer.phones else None,
        "FN": customer.first_name,
        "LN": customer.last_name,
        "CT": address.city if address else None,
        "ST": address.region if address else None,
        "COUNTRY": country,
        "GEN": customer.gender if customer.gender in ("female", "male") else None,
    }
    row = {key: _CLEAN[key](value) if value else "" for key, value in raw.items()}
    row["ZIP"] = _zip(address.postcode, country) if address and address.postcode else ""
    row["DOBY"] = f"{birth.year:04d}" if birth else ""
    row["DOBM"] = f"{birth.month:02d}" if birth else ""
    row["DOBD"] = f"{birth.day:02d}" if birth else ""
    return {key: row[key] for key in SCHEMA}


def hashed_row(customer: Customer) -> dict[str, str]:
    """SHA-256 hex of each normalised value, keyed like :data:`SCHEMA`; empty stays empty."""
    return {
        key: hashlib.sha256(value.encode()).hexdigest() if value else ""
        for key, value in normalized_row(customer).items()
    }


def is_hashed(value: str) -> bool:
    """A lower-case SHA-256 hex digest, as Meta expects every customer-file value."""
    return bool(_HEX64.match(value))
