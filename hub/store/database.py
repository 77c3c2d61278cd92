"""Opening a store: engine, connection settings per backend, migrations.

A store is a SQLite file by default (zero setup) or a PostgreSQL database by
URL. Opening one always brings its schema to the current Alembic head, so a
user upgrading crmhub keeps their data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from pydantic_core import from_json, to_json
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from hub.errors import ConfigError

__all__ = ["Store", "open_store", "relative_to", "sqlalchemy_url"]

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_310_420  # pg_advisory_xact_lock key: "a crmhub process is migrating"
CACHE_KIB = 8_192  # SQLite page cache per connection (default 2,000 KiB)
CHECKPOINT_PAGES = 4_000  # WAL pages between automatic checkpoints (default 1,000)


def sqlalchemy_url(url: str) -> str:
    """Map the URLs users write to the drivers crmhub ships with.

    ``postgresql://`` means psycopg 3 (the ``postgres`` extra), not psycopg2.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"store URL {url!r} is not a database URL; "
            "use sqlite:///path/to/crmhub.db or postgresql://user@host/db"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"store URL scheme {parsed.drivername!r} is not supported; use sqlite or postgresql"
        )
    return parsed.render_as_string(hide_password=False)


def relative_to(url: str, base_dir: Path) -> str:
    """Read a relative SQLite path from the config file's folder, like every other path.

    ``crmhub -c /etc/crmhub/crmhub.yaml sync`` with ``sqlite:///crmhub.db``
    then uses /etc/crmhub/crmhub.db wherever it is started from.
    """
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return url
    if Path(database).is_absolute():
        return url
    return parsed.set(database=str(base_dir / database)).render_as_string(hide_password=False)


SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "busy_timeout=10000",
    f"cache_size=-{CACHE_KIB}",
    f"wal_autocheckpoint={CHECKPOINT_PAGES}",
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers (the CLI, reports) work while a sync writes.

    The last two are for write amplification. A pull's index entries land on
    random leaf pages (e-mails, phones, vendor ids); each commit writes every
    page it touched to the WAL, and a checkpoint copies them into the
    database file and syncs it. A checkpoint every ``CHECKPOINT_PAGES``
    pages (16 MB of WAL) instead of 1,000 lets one copy and sync cover many
    commits of the same hot pages. With SQLite's default 2 MB cache many
    pages one commit touched are evicted and read back before the next; an
    8 MB one keeps more of them. It is allocated as it fills, so a small
    store pays nothing, and a large one up to 6 MB more per pooled
    connection (a pull uses two); 16 MB wrote no faster and cost 14 MB. At 100,000
    customers the two settings took bare inserts of a first pull's rows,
    four pages per commit, from about 5.7 to 4.5 s (docs/performance.md),
    the checkpoint about half of that and the cache the other half.
    """
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _to_json(value: Any) -> str:
    """JSON columns are encoded by pydantic-core, in Rust: the stdlib encoder was a tenth
    of a first pull. Same values back as with ``json.dumps`` (NaN and infinities included)."""
    return to_json(value, inf_nan_mode="constants").decode()


def _from_json(text: str | bytes) -> Any:
    return from_json(text, allow_inf_nan=True)


class Store:
    """The hub's database. Sessions are short: one per page or per command."""

    def __init__(self, url: str) -> None:
        self.url = sqlalchemy_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        connect_args: dict[str, Any] = {"check_same_thread": False} if self.is_sqlite else {}
        self.engine: Engine = create_engine(
            self.url,
            connect_args=connect_args,
            json_serializer=_to_json,
            json_deserializer=_from_json,
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def migrate(self, revision: str = "head", *, downgrade: bool = False) -> None:
        """Bring the schema to ``revision`` (the newest shipped one by default).

        On SQLite, Alembic rebuilds a table to alter it; with foreign keys on,
        dropping the old ``customer`` would cascade into every table that
        references it. Foreign keys are therefore off while migrating.

        On PostgreSQL an advisory lock makes processes that start together (a
        fleet of ``crmhub worker``) migrate one after the other; the later
        ones find the schema current and do nothing.
        """
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        step = command.downgrade if downgrade else command.upgrade
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()  # pysqlite runs the PRAGMA outside any transaction
            with connection.begin():
                if not self.is_sqlite:
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                step(config, revision)
            if self.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose objects stay readable after commit."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url``, creating the SQLite file's folder if needed."""
    store = Store(url)
    if store.is_sqlite:
        database = make_url(store.url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        store.migrate()
    return store
