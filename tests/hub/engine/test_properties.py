"""Convergence: the same people through several sources end as the same customers.

Hypothesis invents a few people and what each connected system holds about
them (a subset of the fields, its own spelling of some, its own timestamps,
sometimes two records for one person, sometimes a later version of a record
that changes fields, adds or drops identifiers and tags), then feeds the
systems in two random schedules: random source order, random page sizes, pulls interleaved page by
page. Both stores must hold the same canonical records, one customer per
person, every record of a person linked to it.

The default run tries 25 examples; ``--runslow`` runs 400, and also feeds later
versions of records (fields changed, identifiers and tags dropped): those
mostly converge too, but not yet always (an expected failure, see there).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.engine.identity import IdentityRules
from hub.engine.merge import MergeRules
from hub.store.database import Store, open_store
from tests.hub.engine.fakes import ListConnector, customer_of, customers, pull

SOURCES = ("shop", "crm", "news", "pos")
T0 = datetime(2024, 3, 1, tzinfo=UTC)
TIMES = st.sampled_from([T0 + timedelta(minutes=m) for m in (0, 2, 30, 600)])
LATER = st.sampled_from([T0 + timedelta(days=1, minutes=m) for m in (0, 2, 30)])
TAGS = ("vip", "b2b", "new", "wholesale")


@dataclass(frozen=True)
class Person:
    number: int
    first_name: str
    last_names: tuple[str, ...]
    emails: tuple[str, ...]
    phone: str | None


@dataclass(frozen=True)
class World:
    people: tuple[Person, ...]
    sources: dict[str, list[dict[str, Any]]]
    merge: MergeRules


@st.composite
def people(draw: st.DrawFn) -> tuple[Person, ...]:
    count = draw(st.integers(1, 4))
    return tuple(
        Person(
            number=n,
            first_name=draw(st.sampled_from(["Ann", "Bob", "Chloé", "Dev"])),
            last_names=tuple(
                draw(
                    st.lists(
                        st.sampled_from(["Lee", "Lee-Ray", "Ray"]),
                        min_size=1,
                        max_size=2,
                        unique=True,
                    )
                )
            ),
            emails=tuple(f"p{n}.{j}@example.com" for j in range(draw(st.integers(1, 2)))),
            phone=f"+346112{n:02d}{draw(st.integers(100, 999))}" if draw(st.booleans()) else None,
        )
        for n in range(count)
    )


@st.composite
def view(
    draw: st.DrawFn, person: Person, source: str, external_id: str, times: Any = TIMES
) -> dict[str, Any]:
    """What one system holds about one person: a subset, its own spellings and clock."""
    keys = [("emails", e) for e in person.emails] + (
        [("phones", person.phone)] if person.phone else []
    )
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
    record: dict[str, Any] = {"id": external_id, "updated_at": draw(times).isoformat()}
    for field, value in chosen:
        record.setdefault(field, []).append(value)
    if draw(st.booleans()):
        record["first_name"] = person.first_name
    optional = {
        "last_name": st.sampled_from(person.last_names),
        "language": st.sampled_from(["es", "en"]),
        "note": st.sampled_from(["call after 5", "prefers e-mail", ""]),
        "birth_date": st.sampled_from(["1980-05-01", "1980-01-05"]),
        "tags": st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        "attributes": st.fixed_dictionaries({"tier": st.sampled_from(["gold", "silver"])}),
        "addresses": st.lists(
            st.fixed_dictionaries(
                {
                    "kind": st.just("home"),
                    "city": st.sampled_from(["Madrid", "Getafe"]),
                    "country": st.just("ES"),
                },
                # With a first line the address is a place: systems that spell it or its
                # other parts differently, or lack a part, hold one address there.
                optional={
                    "line1": st.sampled_from(["Calle Mayor 1", "calle mayor, 1"]),
                    "company": st.sampled_from(["Acme SL", "Beta SA"]),
                },
            ),
            min_size=1,
            max_size=1,
        ),
        "acquisition": st.fixed_dictionaries(
            {"source": st.sampled_from(["google", "meta"])},
            optional={"acquired_at": TIMES.map(datetime.isoformat)},
        ),
        "consents": st.fixed_dictionaries(
            {
                "email": st.fixed_dictionaries(
                    {
                        "status": st.sampled_from(["subscribed", "unsubscribed", "pending"]),
                        "source": st.just(source),
                    },
                    optional={"recorded_at": TIMES.map(datetime.isoformat)},
                )
            }
        ),
    }
    for field, strategy in optional.items():
        if draw(st.booleans()):
            record[field] = draw(strategy)
    return record


@st.composite
def worlds(draw: st.DrawFn, versions: bool = False) -> World:
    folks = draw(people())
    names = draw(st.lists(st.sampled_from(SOURCES), min_size=2, max_size=4, unique=True))
    sources: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for person in folks:
        records = [
            (name, draw(view(person, name, f"{name}-{person.number}-{copy}")))
            for name in names
            for copy in range(draw(st.sampled_from([0, 1, 1, 1, 2])))
        ]
        _connect(person, [r for _, r in records])
        for name, record in records:
            sources[name].append(record)
    for name, records in sources.items():
        records[:] = draw(st.permutations(records))
        changed = (
            draw(st.lists(st.sampled_from(records), unique_by=id)) if records and versions else []
        )
        records += [  # later versions, further down the same stream
            draw(view(folks[_owner(r)], name, r["id"], LATER)) for r in changed
        ]
    for person in folks:  # the final versions must still chain, not only the first ones
        final = {r["id"]: r for rs in sources.values() for r in rs if _owner(r) == person.number}
        _connect(person, list(final.values()))
    priority = tuple(draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))))
    policies = draw(
        st.dictionaries(
            st.sampled_from(["last_name", "note", "language"]),
            st.sampled_from(["priority", "last_writer"]),
        )
    )
    return World(folks, sources, MergeRules(source_priority=priority, policies=policies))


def _owner(record: dict[str, Any]) -> int:
    return int(record["id"].split("-")[1])


def _connect(person: Person, records: list[dict[str, Any]]) -> None:
    """Give every record the first e-mail unless their identifiers already chain them.

    Records of one person that share no identifier, directly or through
    others, are two customers by design; that is not what this test is about.
    """
    groups = [set(r.get("emails", [])) | set(r.get("phones", [])) for r in records]
    reached = set(groups[0]) if groups else set()
    grew = True
    while grew:
        grew = False
        for group in groups:
            if group & reached and not group <= reached:
                reached |= group
                grew = True
    if any(not group & reached for group in groups):
        for record in records:
            if person.emails[0] not in record.get("emails", []):
                record["emails"] = [person.emails[0], *record.get("emails", [])]


@st.composite
def schedules(draw: st.DrawFn, world: World) -> list[tuple[str, int]]:
    """The order pages are pulled in: (source, page size) steps, interleaved."""
    sizes = {name: draw(st.integers(1, 4)) for name in world.sources}
    steps = [
        name
        for name, records in world.sources.items()
        for _ in range(-(-len(records) // sizes[name]))
    ]
    return [(name, sizes[name]) for name in draw(st.permutations(steps))]


class OnePageAtATime(ListConnector):
    """Stops after one page, so pulls of several sources can interleave."""

    async def read(self, stream: str, cursor: str | None) -> Any:
        async for page in super().read(stream, cursor):
            yield page
            return


async def _run(store: Store, world: World, schedule: list[tuple[str, int]]) -> None:
    connectors = {
        name: OnePageAtATime(name, records, page_size=size)
        for name, size in dict(schedule).items()
        for records in (world.sources[name],)
    }
    for name, _ in schedule:
        await pull(store, connectors[name], identity=IdentityRules(), merge=world.merge)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database, copied for every run: migrations are not what is tested."""
    path = tmp_path_factory.mktemp("template") / "crmhub.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="module")
def fresh_store(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("runs")
    counter = iter(range(10**9))

    def make() -> Store:
        path = folder / f"run{next(counter)}.db"
        shutil.copy(template, path)
        return open_store(f"sqlite:///{path}", migrate=False)

    yield make


def _check_convergence(
    fresh_store: Any, world: World, first: list[tuple[str, int]], second: list[tuple[str, int]]
) -> None:
    results = []
    for schedule in (first, second):
        store = fresh_store()
        try:
            asyncio.run(_run(store, world, schedule))
            results.append(customers(store))
            for person in world.people:
                hub_ids = {
                    customer_of(store, name, record["id"])
                    for name, records in world.sources.items()
                    for record in records
                    if _owner(record) == person.number
                }
                assert len(hub_ids) <= 1, f"person {person.number} is {len(hub_ids)} customers"
        finally:
            store.close()
    held = sum(
        1
        for p in world.people
        if any(r["id"].split("-")[1] == str(p.number) for rs in world.sources.values() for r in rs)
    )
    assert len(results[0]) == held
    assert results[0] == results[1]


@st.composite
def cases(
    draw: st.DrawFn, versions: bool = False
) -> tuple[World, list[tuple[str, int]], list[tuple[str, int]]]:
    world = draw(worlds(versions))
    return world, draw(schedules(world)), draw(schedules(world))


COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(COMMON, max_examples=25)
@given(case=cases())
def test_any_order_and_paging_gives_the_same_customers(fresh_store: Any, case: Any) -> None:
    _check_convergence(fresh_store, *case)


@pytest.mark.slow
@settings(COMMON, max_examples=400)
@given(case=cases())
def test_any_order_and_paging_gives_the_same_customers_thoroughly(
    fresh_store: Any, case: Any
) -> None:
    _check_convergence(fresh_store, *case)


@pytest.mark.slow
@pytest.mark.xfail(
    reason="known gap: with later versions that withdraw values, a few orders still differ "
    "(the new primary address after a withdrawal; a scalar removed by one source and "
    "held by another); most cases converge; see the hub.engine.merge docstring",
    strict=False,
)
@settings(COMMON, max_examples=400)
@given(case=cases(versions=True))
def test_later_versions_converge_too(fresh_store: Any, case: Any) -> None:
    _check_convergence(fresh_store, *case)
