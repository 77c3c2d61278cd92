"""The synthetic shop the pull benchmarks read: customers as a shop's API sends them.

Its own module, so that its class has the same name in a worker process
(hub/engine/mapworker.py) whether ``bench.pull`` runs as ``__main__`` or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.model import Customer

if TYPE_CHECKING:
    from hub.testing.fake import FakePerson

__all__ = ["CHANGE_EVERY", "ShopSettings", "SyntheticShop"]

POOL = 4000
CHANGE_EVERY = 100  # 1%


class ShopSettings(BaseModel):
    count: int
    page_size: int


class SyntheticShop(Connector):
    """Serves ``count`` customers; version 2 changes every 100th of them.

    The cursor is the number of records served. With ``only_changed`` it
    serves only the changed ones, like a vendor's ``updated_since`` filter.
    Built like any connector, from settings, so that a big pull may map its
    records in a worker process (hub/engine/mapworker.py) as a real one would.
    """

    name = "bench"
    config_model: ClassVar[type[BaseModel]] = ShopSettings
    reads = {"customers": Customer}
    pure_mapping = True

    def __init__(
        self, config: BaseModel, *, connection: str = "shop", default_region: str | None = None
    ) -> None:
        super().__init__(config, connection=connection, default_region=default_region)
        assert isinstance(config, ShopSettings)
        self.count, self.page_size, self.version = config.count, config.page_size, 1
        self.only_changed = False

    @classmethod
    def of(cls, count: int, page_size: int) -> SyntheticShop:
        return cls(ShopSettings(count=count, page_size=page_size))

    @cached_property
    def pool(self) -> list[FakePerson]:
        """The people the records are made from; a worker that only maps never makes them
        (nor imports Faker)."""
        from hub.testing.fake import fake_people

        return list(fake_people(POOL))

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        numbers: Iterator[int] = iter(range(int(cursor or 0) + 1, self.count + 1))
        if self.only_changed:
            numbers = (n for n in numbers if n % CHANGE_EVERY == 0)
        batch: list[RawRecord] = []
        for number in numbers:
            batch.append(self.raw(number))
            if len(batch) == self.page_size:
                yield Page(records=batch, cursor=str(number))
                batch = []
        if batch:
            yield Page(records=batch, cursor=str(self.count))

    def raw(self, number: int) -> RawRecord:
        """A shop API's customer: what a connector's mapping receives."""
        p: FakePerson = self.pool[number % POOL]
        local = p.email.partition("@")[0].rpartition(".")[0]
        changed = self.version > 1 and number % CHANGE_EVERY == 0
        prefix, digits = _PHONES[p.country]
        return {
            "id": number,
            "email": f"{local.title()}.{number}@Example.{p.country.lower()}",
            "first_name": p.first_name,
            "last_name": p.last_name
            + (("", "", "-Smith", "-Jones")[self.version] if changed else ""),
            "phone": prefix + f"{number % 10**digits:0{digits}d}",
            "accepts_marketing": p.email_consent,
            "tags": "vip, newsletter" if changed else ("newsletter" if number % 7 else ""),
            "default_address": {
                "address1": p.street,
                "city": p.city,
                "zip": p.postcode,
                "country_code": p.country,
            },
            "birth_date": p.birth_date.isoformat(),
            "locale": p.language,
            "created_at": p.created_at.isoformat(),
            "updated_at": p.created_at.replace(
                year=2024 + (self.version if changed else 1)
            ).isoformat(),
        }

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        address = raw["default_address"]
        consent = "subscribed" if raw["accepts_marketing"] else "not_subscribed"
        customer = Customer.model_validate(
            {
                "first_name": raw["first_name"],
                "last_name": raw["last_name"],
                "emails": [raw["email"]],
                "phones": [raw["phone"]],
                "addresses": [
                    {
                        "kind": "shipping",
                        "line1": address["address1"],
                        "city": address["city"],
                        "postcode": address["zip"],
                        "country": address["country_code"],
                    }
                ],
                "birth_date": raw["birth_date"],
                "language": raw["locale"],
                "tags": [t for t in raw["tags"].split(", ") if t],
                "consents": {"email": {"status": consent, "source": "shop"}},
                "created_at": raw["created_at"],
                "updated_at": raw["updated_at"],
            },
            context={"default_region": address["country_code"]},
        )
        return SourceRecord(str(raw["id"]), customer, customer.updated_at)


# Mobile ranges in which every number is valid, unique per person up to 5 x 10**7 people
# (hub.testing.fake's GB range +447700 is only valid below +447700200000).
_PHONES = {
    "ES": ("+346", 8),
    "GB": ("+4474", 8),
    "DE": ("+49151", 8),
    "FR": ("+3361", 7),
    "IT": ("+39347", 7),
}
