"""Deterministic, realistic fake customers for sandboxes, samples and benchmarks.

The same seed gives the same people on every machine, so a demo, a benchmark
and a failing test can be reproduced. Several locales make the data look like
a European shop's: accents, local phone formats, foreign addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from faker import Faker

__all__ = ["DEFAULT_LOCALES", "FakePerson", "fake_people", "fake_phone"]

DEFAULT_LOCALES = ("es_ES", "en_GB", "de_DE", "fr_FR", "it_IT")
_COUNTRY = {"es_ES": "ES", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "it_IT": "IT"}
_PHONE_PREFIX = {"ES": "+346", "GB": "+447700", "DE": "+49151", "FR": "+336", "IT": "+39347"}
_PHONE_DIGITS = {"ES": 8, "GB": 6, "DE": 8, "FR": 8, "IT": 7}
_GB_7700_VALID_BELOW = 200_000
"""+44 7700 000000 to 199999 are valid mobile numbers; 7700 200000 and up are
not all (libphonenumber's plan), so a crowd past 200,000 people had 100,000 in
1,000,000 whose record a sync refused (bench: 900,000 stored of 1,000,000)."""
_GB_WIDE = ("+4474", 8)
"""A range valid for every 8 digits below 45,700,000, disjoint from 7700."""


@dataclass(frozen=True, slots=True)
class FakePerson:
    number: int
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    postcode: str
    country: str
    birth_date: date
    language: str
    email_consent: bool
    created_at: datetime


_CACHED_UP_TO = 1000
"""Small crowds are kept: test suites build the same sandbox people hundreds of times."""


def fake_people(
    count: int, *, seed: int = 1, locales: tuple[str, ...] = DEFAULT_LOCALES
) -> Iterator[FakePerson]:
    """Yield ``count`` people; e-mails are unique (the number is part of them)."""
    if count <= _CACHED_UP_TO:
        yield from _crowd(count, seed, locales)
    else:
        yield from _generate(count, seed, locales)


@lru_cache(maxsize=32)
def _crowd(count: int, seed: int, locales: tuple[str, ...]) -> tuple[FakePerson, ...]:
    return tuple(_generate(count, seed, locales))


def _generate(count: int, seed: int, locales: tuple[str, ...]) -> Iterator[FakePerson]:
    fakers = {locale: _stable(Faker(locale)) for locale in locales}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed * 1000 + offset)  # distinct streams: no twin birthdays
    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    for number in range(1, count + 1):
        locale = locales[number % len(locales)]
        faker = fakers[locale]
        country = _COUNTRY.get(locale, "US")
        first, last = faker.first_name(), faker.last_name()
        ascii_name = f"{first} {last}".lower().encode("ascii", "ignore").decode()
        local = re.sub(r"[^a-z0-9]+", ".", ascii_name).strip(".") or "customer"
        yield FakePerson(
            number=number,
            first_name=first,
            last_name=last,
            email=f"{local}.{number}@example.{country.lower()}",
            phone=fake_phone(country, number),
            street=faker.street_address().replace("\n", ", "),
            city=faker.city(),
            postcode=faker.postcode(),
            country=country,
            birth_date=faker.date_of_birth(minimum_age=18, maximum_age=85),
            language=locale.split("_")[0],
            email_consent=number % 3 != 0,
            created_at=epoch + timedelta(minutes=number * 7),
        )


def fake_phone(country: str, number: int) -> str:
    """A valid mobile number of ``country`` for person ``number``, unique per country.

    The first 200,000 people of a crowd keep the numbers they always had, so
    tests and samples built on them do not change; GB people past that move
    to a range where every number is valid.
    """
    if country == "GB" and number >= _GB_7700_VALID_BELOW:
        prefix, digits = _GB_WIDE
    else:
        prefix, digits = _PHONE_PREFIX.get(country, "+1202555"), _PHONE_DIGITS.get(country, 7)
    return prefix + f"{number % 10**digits:0{digits}d}"


def _stable(faker: Faker) -> Faker:
    """Put lists Faker builds from a set in a fixed order.

    it_IT's cities come from a set, so the city a seed picks changed with
    PYTHONHASHSEED: a sandbox served by `crmhub sandbox serve` and the same
    sandbox in a test held different people.
    """
    for provider in faker.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
    return faker
