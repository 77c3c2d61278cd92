"""`crmhub demo`: a shop and an e-mail marketing tool kept in step, on one machine, in seconds.

It works on a fresh clone with nothing running: the shop is the Shopify
sandbox and the e-mail side the Mailchimp sandbox, both served on loopback and
seeded with the same fake people, so some are in both, some unsubscribed in
Mailchimp while the shop still says yes, and some never gave consent. The demo
writes a config in its folder, syncs both ways three times (the last two must
write nothing) and reports what happened, with the commands that show each
part. Its figures are read from the store and from the two sandboxes, so they
say what the engine did, not what the demo hoped.

Connectors are found by name through the installed plugins, as any config
names them; the core imports none.
"""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import func
from sqlmodel import select

from hub.cli.context import plugins_with_warnings
from hub.cli.demo_report import DemoFacts, demo_facts
from hub.cli.output import JsonOption, console, print_json, print_table, reports_errors
from hub.cli.sync_cmd import run_sync
from hub.config import load_config
from hub.engine.runner import StreamResult
from hub.plugins import Plugins
from hub.store.database import Store, open_store
from hub.store.tables import Outbox
from hub.testing.registry import find_sandbox
from hub.testing.serve import running

__all__ = ["demo", "shop_side"]

SHOP, NEWSLETTER = "shop", "newsletter"
SEED = 7
"""The seed both sandboxes make their fake people from: the same people on both sides."""
AUDIENCE = 300
"""Fake people the audience is made from; the shop holds the first 253, so some are only here."""
SHOP_PEOPLE = 253


def shop_side(stack: ExitStack, plugins: Plugins, folder: Path) -> tuple[dict[str, Any], Any]:
    """The shop: the Shopify sandbox on loopback, with its customers and their orders.

    Returns its connection block and the sandbox, whose state the report reads.
    """
    shop = find_sandbox(plugins, "shopify")(bulk_seconds=0.2)  # type: ignore[call-arg]
    shop.populate(SHOP_PEOPLE, seed=SEED)
    url = stack.enter_context(running(shop))
    settings = _secrets_in_files(shop.config_for(url), shop.environment(), folder)
    block = {
        "connector": "shopify",
        "direction": "both",
        "streams": ["customers", "orders"],
        "config": {**settings, "bulk_poll": 0.2},
    }
    return block, shop


@dataclass
class ConsentFacts:
    """What happened to e-mail consent, read from the two sandboxes before and after."""

    opted_out: list[str]
    """Subscribed in the shop, unsubscribed in Mailchimp, before the first sync."""
    reached: list[str]
    """Of those, the ones the shop now holds as unsubscribed too."""
    no_consent: list[str]
    """Not subscribed in the shop, and in the audience after the syncs."""
    subscribed_by_us: list[str]
    """Of those, the ones Mailchimp holds as subscribed that it did not before: must be none."""


States = tuple[dict[str, str], dict[str, str]]


@dataclass(frozen=True)
class Rerun:
    """What a sync after the first did: requests that changed something at each sandbox,
    outbox rows its pulls queued, and changes its pushes handed to a connector."""

    mailchimp: int
    shopify: int
    queued: int
    planned: int


def queued_pushes(store: Store) -> int:
    """Outbox rows ever queued: the difference across a pass is what its pulls queued."""
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(Outbox)).one())


def _consent_facts(before: States, after: States) -> ConsentFacts:
    (shop, audience), (shop_now, audience_now) = before, after
    opted_out = sorted(
        email
        for email, state in shop.items()
        if state == "SUBSCRIBED" and audience.get(email) == "unsubscribed"
    )
    no_consent = sorted(
        e for e, state in shop.items() if state != "SUBSCRIBED" and e in audience_now
    )
    return ConsentFacts(
        opted_out=opted_out,
        reached=[e for e in opted_out if shop_now.get(e) == "UNSUBSCRIBED"],
        no_consent=no_consent,
        subscribed_by_us=[
            e
            for e in no_consent
            if audience_now[e] == "subscribed" and audience.get(e) != "subscribed"
        ],
    )


def _email_states(shop: Any, audience: Any) -> tuple[dict[str, str], dict[str, str]]:
    """E-mail marketing state by address, in the shop and in the audience, as they are now."""
    in_shop = {
        str(c["email"]).lower(): str(c["emailMarketingConsent"]["marketingState"])
        for c in shop.records("customers").values()
        if c.get("email")
    }
    in_audience = {
        str(m["email_address"]).lower(): str(m["status"])
        for m in audience.records("customers").values()
    }
    return in_shop, in_audience


@reports_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--folder", help="Where the demo writes its config and store")
    ] = Path("crmhub-demo"),
    as_json: JsonOption = False,
) -> None:
    """Sync a Shopify sandbox with a Mailchimp sandbox both ways and report what happened."""
    plugins = plugins_with_warnings()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with ExitStack() as stack:
        shop, shop_sandbox = shop_side(stack, plugins, folder)
        audience: Any = find_sandbox(plugins, "mailchimp")(batch_seconds=0.5)  # type: ignore[call-arg]
        audience.populate(AUDIENCE, seed=SEED)
        url = stack.enter_context(running(audience))
        settings = _secrets_in_files(audience.config_for(url), audience.environment(), folder)
        email = {
            "connector": "mailchimp",
            "direction": "both",
            "streams": ["customers"],
            "config": {**settings, "batch_poll_seconds": 0.25},
        }
        path = folder / "crmhub.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "store": "sqlite:///crmhub.db",
                    "connections": {SHOP: shop, NEWSLETTER: email},
                    "merge": {"source_priority": [SHOP, NEWSLETTER]},
                },
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        shop_before, audience_before = _email_states(shop_sandbox, audience)
        hub_config = load_config(path, plugins)
        store = open_store(f"sqlite:///{folder / 'crmhub.db'}")
        if not as_json:
            console.rule("crmhub demo: the shop and Mailchimp, both ways")
        first = run_sync(store, hub_config, plugins, show_progress=not as_json)
        if not as_json:
            _print_pass("First sync", first)
            console.rule(
                "Two more syncs with nothing changed outside: they settle, then write nothing"
            )
        writes = []
        for _ in range(2):
            before = (audience.writes, shop_sandbox.changes, queued_pushes(store))
            rerun = run_sync(store, hub_config, plugins, show_progress=not as_json)
            writes.append(
                Rerun(
                    mailchimp=audience.writes - before[0],
                    shopify=shop_sandbox.changes - before[1],
                    queued=queued_pushes(store) - before[2],
                    planned=sum(
                        r.counts.get("pushed", 0) + r.counts.get("rejected", 0)
                        for r in rerun
                        if r.phase == "push"
                    ),
                )
            )
        shop_after, audience_after = _email_states(shop_sandbox, audience)
        with store.session() as session:
            facts = demo_facts(session, SHOP, NEWSLETTER)
        store.close()
    consent = _consent_facts((shop_before, audience_before), (shop_after, audience_after))
    if as_json:
        print_json(
            {
                "config": str(path),
                "records_read": _customer_records(first),
                "duplicates_avoided": _merged(first),
                "customers": facts.customers,
                "in_both_systems": len(facts.unified),
                "opted_out_in_mailchimp": len(consent.opted_out),
                "opt_outs_reaching_shopify": len(consent.reached),
                "without_consent_in_mailchimp": len(consent.no_consent),
                "subscribed_by_crmhub_without_consent": len(consent.subscribed_by_us),
                "open_conflicts": dict(facts.conflicts),
                "writes_on_reruns": [
                    {"mailchimp": w.mailchimp, "shopify": w.shopify} for w in writes
                ],
                "pushes_on_reruns": [{"queued": w.queued, "planned": w.planned} for w in writes],
            }
        )
        return
    _report(facts, first, writes, path, consent)


def _customer_records(results: list[StreamResult]) -> int:
    """Customer records the first pass read from both systems (orders are not people)."""
    return sum(
        r.counts.get("read", 0) for r in results if r.phase == "pull" and r.stream == "customers"
    )


def _merged(results: list[StreamResult]) -> int:
    """Records the first pass matched to a customer another system had brought in."""
    return sum(r.counts.get("merged", 0) for r in results if r.phase == "pull")


def example(ids: list[str]) -> str:
    return ids[0] if ids else "HUB_ID"


def _secrets_in_files(
    settings: dict[str, Any], environment: dict[str, str], folder: Path
) -> dict[str, Any]:
    """``${VAR}`` references as ``file:`` ones, so the written config works after the demo."""
    written = dict(settings)
    for name, value in environment.items():
        (folder / f"{name.lower()}.secret").write_text(value, encoding="utf-8")
        for key, setting in settings.items():
            if setting == f"${{{name}}}":
                written[key] = f"file:{name.lower()}.secret"
    return written


def _print_pass(title: str, results: list[StreamResult]) -> None:
    print_table(
        title,
        ["stream", "phase", "read", "created", "updated", "pushed", "dead letters"],
        [
            [
                f"{r.connection}/{r.stream}",
                r.phase,
                r.counts.get("read"),
                r.counts.get("created"),
                r.counts.get("updated"),
                r.counts.get("pushed"),
                r.counts.get("dead_letters"),
            ]
            for r in results
        ],
    )


def _report(
    facts: DemoFacts,
    first: list[StreamResult],
    writes: list[Rerun],
    path: Path,
    consent: ConsentFacts,
) -> None:
    read = _customer_records(first)
    conflicts = ", ".join(f"{n} {kind}" for kind, n in sorted(facts.conflicts.items())) or "none"
    rows = [
        [
            "customers unified",
            f"{read} customer records from 2 systems -> {facts.customers} customers",
            f"crmhub customers list -c {path}",
        ],
        [
            "duplicates avoided",
            f"{_merged(first)} people were in both before the sync: one record each; "
            f"{len(facts.unified)} are in both now",
            f"crmhub customers show {example(facts.unified)} -c {path}",
        ],
        [
            "consent propagated",
            f"{len(consent.opted_out)} subscribed in Shopify but unsubscribed in Mailchimp: "
            f"{len(consent.reached)} of them now unsubscribed in Shopify too",
            f"crmhub customers show {example(consent.opted_out)} -c {path}",
        ],
        [
            "no consent, no campaigns",
            f"{len(consent.no_consent)} shop customers without e-mail consent are in "
            f"Mailchimp; subscribed by crmhub: {len(consent.subscribed_by_us)}",
            f"crmhub customers show {example(consent.no_consent)} -c {path}",
        ],
        [
            "conflicts for review",
            conflicts,
            f"crmhub conflicts list -c {path}"
            + (
                f"; crmhub conflicts show {facts.first_conflict} -c {path}"
                if facts.first_conflict
                else ""
            ),
        ],
        [
            "re-runs",
            "; ".join(
                f"sync {n}: {w.mailchimp} writes at Mailchimp, {w.shopify} at Shopify, "
                f"{w.queued} pushes queued, {w.planned} planned"
                for n, w in enumerate(writes, 2)
            ),
            f"crmhub runs list -c {path}",
        ],
    ]
    print_table("What the demo did", ["", "result", "look with"], rows)
