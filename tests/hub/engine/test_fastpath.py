"""The fast paths agree with email-validator and phonenumbers wherever they answer.

Inputs are generated around the edges of each fast path's domain (special
characters, special-use domains, lengths, national prefixes, every country
code, valid and invalid numbers). Wherever a fast path returns a value, the
library must accept the input and normalise it to that same value; wherever
the library refuses an input, the fast path must have declined it.
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hub.engine.fastpath import fast_email, fast_phone
from hub.normalize import NormalizationError, normalize_email, normalize_phone

ATEXT = "abcXYZ019_%+-!#$&'*/=?^`{|}~."
LABEL_CHARS = "abzAZ09-"
SPECIAL = ["test", "invalid", "local", "localhost", "arpa", "onion"]
CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.VOIP,
]


def _library(normalize: object, value: str) -> str | None:
    try:
        return normalize(value)  # type: ignore[operator,no-any-return]
    except NormalizationError:
        return None


def _agrees(fast: str | None, library: str | None) -> None:
    if fast is not None:
        assert library == fast


labels = st.text(LABEL_CHARS, min_size=1, max_size=70)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(labels, min_size=0, max_size=3),
    st.one_of(st.sampled_from(["com", "es", "co", "museum", "x1", "1a", *SPECIAL]), labels),
)
emails = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(ATEXT, min_size=0, max_size=70),
    domains,
)


@settings(max_examples=400, deadline=None)
@given(emails)
@example("Ann.Lee+news@Example.COM")
@example("a@b.test")
@example("a@xn--bcher-kva.com")
@example("ab--cd@ab--cd.com")
@example("a..b@example.com")
@example(".a@example.com")
@example("x" * 64 + "@example.com")
@example("x" * 65 + "@example.com")
def test_the_email_fast_path_agrees_with_email_validator(address: str) -> None:
    _agrees(fast_email(address), _library(normalize_email, address))


@pytest.mark.parametrize(
    "address", ["Ann.Lee+news@Example.COM", "j_o-e%1@mail.example.co.uk", "  ann@example.com "]
)
def test_common_addresses_take_the_email_fast_path(address: str) -> None:
    assert fast_email(address) == normalize_email(address)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """E.164-shaped strings: real examples, perturbed; and random digits after a real code."""
    if draw(st.booleans()):
        region = draw(st.sampled_from(REGIONS))
        number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
        if number is None:
            number = phonenumbers.example_number(region)
        if number is None:
            return "+" + str(draw(st.sampled_from(CODES))) + "1234567"
        digits = str(number.country_code) + phonenumbers.national_significant_number(number)
        tail = draw(st.text("0123456789", max_size=3))
        digits = digits[: len(digits) - draw(st.integers(0, 3))] + tail
    else:
        code = str(draw(st.sampled_from(CODES)))
        digits = code + draw(st.text("0123456789", min_size=1, max_size=15))
    separated = "".join(draw(st.sampled_from(["", "", "", " ", "-"])) + ch for ch in digits)
    return "+" + separated


@settings(max_examples=800, deadline=None)
@given(phones())
@example("+34611222333")
@example("+34 611 222 333")
@example("+4407700900123")  # a trunk 0 after the country code: parsing strips it
@example("+12025550123")
@example("+112025550123")  # NANP's national prefix 1
@example("+390612345678")  # Italian leading zero
@example("+447624123456")  # Isle of Man: +44 is shared by several regions
@example("+80012345678")  # a non-geographic code
def test_the_phone_fast_path_agrees_with_phonenumbers(number: str) -> None:
    _agrees(fast_phone(number), _library(normalize_phone, number))


@pytest.mark.parametrize(
    "number", ["+34611222333", "+447911123456", "+4915112345678", "+12025550123", "+33612345678"]
)
def test_common_numbers_take_the_phone_fast_path(number: str) -> None:
    assert fast_phone(number) == normalize_phone(number)
