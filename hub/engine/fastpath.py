"""Strict fast paths for the two normalisations every customer record pays for.

email-validator and phonenumbers cost 40 to 90 us per value, most of it on
inputs that are already in canonical shape: a plain ASCII address, a number
in E.164. Each function here accepts only a narrow form whose outcome is
provably the library's, and returns ``None`` for anything else so that the
caller falls back to the library. A fast path never accepts a value the
library would refuse, nor returns a different string (tests/hub/engine/
test_fastpath.py checks both against the libraries with generated inputs).

- :func:`fast_email`: a dot-atom local part of common characters and an ASCII
  host name whose top-level domain ends with a letter and is not a special-use
  name, within the RFC lengths. email-validator accepts exactly these without
  change (no IDNA, no Unicode normalisation), so the normalised form is the
  lower-cased input.
- :func:`fast_phone`: ``+`` and 7 to 15 digits (spaces and hyphens aside)
  whose national part does not begin with the country's national prefix (so
  parsing would not strip anything) nor with 0. Validity is decided with the
  library's own metadata and its own algorithm (general pattern, then any
  number type, with the possible-length gates), compiled once per country
  code instead of on every call. The E.164 form of such a number is the
  input's digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from phonenumbers.phonemetadata import PhoneMetadata

__all__ = ["fast_email", "fast_phone"]

_LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_SPECIAL = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_E164 = re.compile(r"\+([1-9][0-9]{6,14})")
_TYPES = (  # the commonest first: validity asks whether *any* type matches
    "mobile",
    "fixed_line",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def fast_email(value: str) -> str | None:
    """The normalised address, or None when the library must decide."""
    text = value.strip()
    match = _EMAIL.fullmatch(text)
    if match is None or len(text) > 254 or len(match[1]) > 64 or len(match[2]) > 253:
        return None
    domain = match[2].lower()
    if "--" in domain or any(
        domain == special or domain.endswith("." + special) for special in _SPECIAL
    ):
        return None
    return text.lower()


def fast_phone(value: str) -> str | None:
    """The E.164 form of a valid number already written in it, or None."""
    match = _E164.fullmatch(value.strip().replace(" ", "").replace("-", ""))
    if match is None:
        return None
    digits = match[1]
    for size in (1, 2, 3):
        plan = _plan(int(digits[:size]))
        if plan is not None:
            break
    else:
        return None
    national = digits[size:]
    if national.startswith("0") or (plan.prefix is not None and plan.prefix.match(national)):
        return None
    return "+" + digits if plan.valid(national) else None


@dataclass(frozen=True, slots=True)
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(national) is not None


@dataclass(frozen=True, slots=True)
class _Region:
    general: _Desc | None
    types: tuple[_Desc, ...]
    leading: re.Pattern[str] | None

    def valid(self, national: str) -> bool:
        """phonenumbers' ``_number_type_helper(...) != UNKNOWN``."""
        return (
            self.general is not None
            and self.general.matches(national)
            and any(desc.matches(national) for desc in self.types)
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    """One country calling code: its regions in the library's order, and its prefix."""

    regions: tuple[_Region, ...]
    prefix: re.Pattern[str] | None

    def valid(self, national: str) -> bool:
        """phonenumbers' ``is_valid_number``: pick the region as it does, then validate."""
        if len(self.regions) == 1:
            return self.regions[0].valid(national)
        for region in self.regions:
            if region.leading is not None:
                if region.leading.match(national):
                    return region.valid(national)
            elif region.valid(national):
                return True
        return False


@cache
def _plan(country_code: int) -> _Plan | None:
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not codes:
        return None
    regions = []
    for code in codes:
        metadata = (
            PhoneMetadata.metadata_for_nongeo_region(country_code)
            if code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
            else PhoneMetadata.metadata_for_region(code)
        )
        if metadata is None:
            return None  # the library would skip this region; leave such codes to it
        regions.append(
            _Region(
                general=_desc(metadata.general_desc),
                types=tuple(d for d in (_desc(getattr(metadata, t)) for t in _TYPES) if d),
                leading=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
            )
        )
    main = (
        PhoneMetadata.metadata_for_nongeo_region(country_code)
        if codes[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        else PhoneMetadata.metadata_for_region(codes[0])
    )
    prefix = main.national_prefix_for_parsing if main is not None else None
    return _Plan(tuple(regions), re.compile(prefix) if prefix else None)


def _desc(desc: object) -> _Desc | None:
    if desc is None:
        return None
    pattern = getattr(desc, "national_number_pattern", None)
    lengths = frozenset(getattr(desc, "possible_length", None) or ())
    return _Desc(lengths, re.compile(pattern) if pattern else None)
