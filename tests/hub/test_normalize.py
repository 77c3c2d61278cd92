from __future__ import annotations

import pytest

from hub.normalize import (
    NormalizationError,
    forget_people,
    normalize_country,
    normalize_currency,
    normalize_email,
    normalize_language,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann.Smith@Example.COM", "ann.smith@example.com"),
        ("  bob@example.org ", "bob@example.org"),
        ("josé@bücher.de", "josé@bücher.de"),
        ("user@xn--bcher-kva.de", "user@bücher.de"),
    ],
)
def test_email_is_lowercased_and_idna_decoded(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ann@@example.com", "no-at-sign", "a..b@example.com", "x@-bad.com"]
)
def test_invalid_email_raises_typed_error(raw: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        normalize_email(raw)
    assert caught.value.kind == "email"
    assert raw in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+34 612 34 56 78", None, "+34612345678"),
        ("612 345 678", "ES", "+34612345678"),
        ("(020) 7946 0018", "GB", "+442079460018"),
        ("+1 (202) 456-1111", "FR", "+12024561111"),
    ],
)
def test_phone_becomes_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"), [("612 345 678", None), ("12", "ES"), ("+10000000000", None)]
)
def test_invalid_phone_raises(raw: str, region: str | None) -> None:
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(raw, region)
    assert caught.value.kind == "phone"


def test_phone_without_region_says_why() -> None:
    with pytest.raises(NormalizationError, match="no default region"):
        normalize_phone("612 345 678")


@pytest.mark.parametrize(
    ("raw", "expected"), [("ES", "ES"), ("esp", "ES"), ("Spain", "ES"), ("724", "ES"), ("de", "DE")]
)
def test_country_is_iso_alpha2(raw: str, expected: str) -> None:
    assert normalize_country(raw) == expected


def test_unknown_country_raises() -> None:
    with pytest.raises(NormalizationError, match="ISO 3166"):
        normalize_country("Atlantis")


def test_currency_and_language() -> None:
    assert normalize_currency("eur") == "EUR"
    assert normalize_language("es_es") == "es-ES"
    assert normalize_language("spa") == "es"
    with pytest.raises(NormalizationError):
        normalize_currency("EURO")
    with pytest.raises(NormalizationError):
        normalize_language("xx")


def test_forget_people_empties_the_address_and_phone_caches() -> None:
    normalize_email("Forget.Me@Example.com")
    normalize_phone("+34 612 34 56 78", None)
    assert normalize_email.cache_info().currsize and normalize_phone.cache_info().currsize
    forget_people()
    assert normalize_email.cache_info().currsize == normalize_phone.cache_info().currsize == 0
