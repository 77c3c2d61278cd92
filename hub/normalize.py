"""Normalisation of contact data with the field's own libraries.

Identity resolution compares these values byte for byte, so every source must
produce the same string for the same address, phone or country. We lean on
email-validator, phonenumbers and pycountry instead of regexes of our own: they
encode the RFCs and numbering plans we would otherwise get subtly wrong.

The common shapes (a plain ASCII address, a number already in E.164) take a
strict fast path that is a proven subset of what the libraries accept
(tests/hub/engine/test_fastpath.py); everything else goes to the libraries.

Each function raises :class:`NormalizationError` with a machine-readable
``kind`` so that callers (pydantic validators, dead letters) keep the reason.
Results are cached: the same address appears on every page of a re-sync.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from hub.engine.fastpath import fast_email, fast_phone

__all__ = [
    "NormalizationError",
    "forget_people",
    "normalize_country",
    "normalize_currency",
    "normalize_email",
    "normalize_language",
    "normalize_phone",
]

_CACHE_SIZE = 65_536


class NormalizationError(ValueError):
    """A value that cannot be brought into canonical form.

    ``kind`` names the check that failed (``email``, ``phone``, ``country``,
    ``currency``, ``language``) so the error can be typed in pydantic and
    counted in run statistics.
    """

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"{kind} {value!r} is not valid: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_email(value: str) -> str:
    """Return the address in the form identity matching compares.

    Syntax and IDNA are checked by email-validator (no DNS: a sync must not
    depend on the network of the machine it runs on). The whole address is
    lower-cased: every mainstream provider treats the local part
    case-insensitively and so do Mailchimp's subscriber hashes.
    """
    fast = fast_email(value)
    if fast is not None:
        return fast
    text = value.strip()
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise NormalizationError("email", value, str(exc)) from None
    return checked.normalized.lower()


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Return the number in E.164, the only form that is unique worldwide.

    A number without a leading ``+`` needs a region to be read; it comes from
    the customer's address or the connection's configured default.
    """
    fast = fast_phone(value)
    if fast is not None:
        return fast
    text = value.strip()
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if text.startswith("+") or region else " (no country code and no default region)"
        raise NormalizationError("phone", value, f"{exc}{hint}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise NormalizationError("phone", value, "not a valid number in its numbering plan")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def forget_people() -> None:
    """Empty the caches of e-mail addresses and phone numbers normalised so far.

    They pay where the same values come again (a re-sync maps what it mapped
    before), and hold up to 65,536 of each, some 30 MB. The mapping worker of
    a big pull, which maps each record once, empties them after every page.
    """
    normalize_email.cache_clear()
    normalize_phone.cache_clear()


@lru_cache(maxsize=4096)
def normalize_country(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a code, number or English name."""
    text = value.strip()
    try:
        country = pycountry.countries.lookup(text)
    except LookupError:
        raise NormalizationError("country", value, "not an ISO 3166 country") from None
    return str(country.alpha_2)


@lru_cache(maxsize=512)
def normalize_currency(value: str) -> str:
    """Return the ISO 4217 alphabetic code."""
    text = value.strip().upper()
    currency = pycountry.currencies.get(alpha_3=text)
    if currency is None:
        raise NormalizationError("currency", value, "not an ISO 4217 currency code")
    return str(currency.alpha_3)


@lru_cache(maxsize=1024)
def normalize_language(value: str) -> str:
    """Return a BCP 47 style tag: ISO 639-1 language, optional ISO 3166 region.

    Vendors write ``es``, ``es_ES``, ``es-es`` or ``spa``; all become ``es`` or
    ``es-ES``.
    """
    text = value.strip().replace("_", "-")
    primary, _, region = text.partition("-")
    language = pycountry.languages.get(alpha_2=primary.lower()) or pycountry.languages.get(
        alpha_3=primary.lower()
    )
    if language is None or not hasattr(language, "alpha_2"):
        raise NormalizationError("language", value, "not an ISO 639-1 language")
    if not region:
        return str(language.alpha_2)
    return f"{language.alpha_2}-{normalize_country(region)}"
