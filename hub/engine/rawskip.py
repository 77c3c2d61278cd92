"""Skipping vendor records whose payload did not change, before they are mapped.

Mapping and validating a record (``to_canonical``: e-mail, phone, country
checks into the canonical model) is most of what a full re-read costs, and
most records of a re-read are what the source gave last time. Each customer
link keeps ``raw_hash``, a hash of the payload its record was last applied
from, salted with what decides the mapping (the connector class and version,
the connection's settings, its default region). A record whose hash equals
its link's is the same input to the same mapping, so its canonical record is
the one the link already holds: it is counted unchanged and not mapped.

The hash is the whole authority, the vendor id only finds the link to compare
with: an id guessed wrongly from the payload finds no link or one whose hash
differs, and the record is mapped as before. Anything that changes a link's
record without this payload (a webhook, a retried dead letter, an unmerge)
writes ``raw_hash`` None, so the next read maps the record again.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from functools import cache
from importlib import metadata

from sqlalchemy import select

from hub.connector import Connector, RawRecord
from hub.model import Customer
from hub.store.database import Store
from hub.store.tables import Link, table_of

__all__ = ["RawHasher", "has_links", "stored_hashes"]

LINK = table_of(Link)


class RawHasher:
    """Hashes a stream's payloads under its mapping; ``None`` when the stream is not skippable.

    Only streams that map to customers are skipped: their links are the ones
    whose base and fingerprint the pull compares, and other objects are cheap
    to map.
    """

    def __init__(self, connector: Connector, stream: str) -> None:
        self.enabled = issubclass(connector.reads.get(stream, object), Customer)
        self._salt = hashlib.sha256(_mapping_key(connector).encode())

    def digest(self, raw: RawRecord) -> str:
        """``repr`` of a parsed payload is deterministic (the vendor's key order, Python's
        own forms of numbers and strings) and cheaper than encoding it again."""
        hasher = self._salt.copy()
        hasher.update(repr(raw).encode())
        return hasher.hexdigest()


def _mapping_key(connector: Connector) -> str:
    """What the mapping of a payload depends on besides the payload.

    The settings are dumped as JSON, where secrets show as ``**********``: a
    new API key maps nothing differently.
    """
    cls = type(connector)
    return "\0".join(
        (
            f"{cls.__module__}.{cls.__qualname__}",
            _version(cls.__module__.partition(".")[0]),
            connector.config.model_dump_json(),
            connector.default_region or "",
        )
    )


@cache
def _version(package: str) -> str:
    """The installed version of the distribution that ships ``package`` (an upgrade remaps)."""
    names = metadata.packages_distributions().get(package) or []
    versions = []
    for name in names:
        try:
            versions.append(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    module = sys.modules.get(package)
    return ",".join(versions) or str(getattr(module, "__version__", ""))


def has_links(store: Store, connection: str) -> bool:
    """Whether the connection holds any customer link: a first pull has nothing to skip.

    Asked once per pull. Records it links meanwhile are not compared, which
    only means they are mapped: mapping is always correct, skipping an
    optimisation.
    """
    with store.engine.connect() as db:
        found = db.execute(
            select(LINK.c.id)
            .where(LINK.c.connection == connection, LINK.c.object == "customer")
            .limit(1)
        )
        return found.first() is not None


def stored_hashes(store: Store, connection: str, external_ids: Iterable[str]) -> dict[str, str]:
    """The raw hashes of these customers' live links, one indexed query."""
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    with store.engine.connect() as db:
        rows = db.execute(
            select(LINK.c.external_id, LINK.c.raw_hash).where(
                LINK.c.connection == connection,
                LINK.c.object == "customer",
                LINK.c.external_id.in_(ids),
                LINK.c.deleted.is_(False),
                LINK.c.raw_hash.is_not(None),
            )
        )
        return {external_id: digest for external_id, digest in rows}
