"""`crmhub demo`: a shop and an e-mail marketing tool kept in step, on one machine, in seconds.

It works on a fresh clone with nothing running: the e-mail side is the
Mailchimp sandbox served on loopback, seeded with the same fake people as
the sample shop, so some are in both, some unsubscribed in Mailchimp while
the shop still says yes, and some never gave consent. The shop side is
:func:`shop_side`, the one function to change when the shop becomes a
sandbox of its own. The demo writes a config in its folder, syncs both ways
three times (the last two must write nothing) and reports what happened, with
the commands that show each part.

Connectors are found by name through the installed plugins, as any config
names them; the core imports none.
"""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from hub.cli.context import plugins_with_warnings
from hub.cli.demo_report import DemoFacts, demo_facts
from hub.cli.output import ConfigOption, console, print_table, reports_errors
from hub.cli.sync_cmd import run_sync
from hub.config import load_config
from hub.engine.runner import StreamResult
from hub.plugins import Plugins
from hub.store.database import open_store
from hub.testing.registry import find_sandbox
from hub.testing.serve import running

__all__ = ["demo", "shop_side"]

SHOP, NEWSLETTER = "shop", "newsletter"
SEED = 7
"""The seed config/sample-customers.csv was made from: the audience holds the same people."""
AUDIENCE = 300
"""Fake people the audience is made from; the shop holds the first 253, so some are only here."""


def shop_side(stack: ExitStack, plugins: Plugins, shop_config: Path) -> dict[str, Any]:
    """The shop's connection block: for now the sample spreadsheet of ``shop_config``.

    A shop served by a sandbox would start it here on ``stack`` (see the
    e-mail side in :func:`demo`) and return its connection block.
    """
    data = yaml.safe_load(shop_config.read_text(encoding="utf-8"))
    block = dict(data["connections"]["spreadsheet"])
    settings = dict(block["config"])
    base = shop_config.parent.resolve()
    settings["path"] = str(base / settings["path"])
    if settings.get("orders"):
        settings["orders"] = {**settings["orders"], "path": str(base / settings["orders"]["path"])}
    return {**block, "config": settings}


@reports_errors
def demo(
    config: ConfigOption = Path("config/demo.yaml"),
    folder: Annotated[
        Path, typer.Option("--folder", help="Where the demo writes its config and store")
    ] = Path("crmhub-demo"),
) -> None:
    """Sync the sample shop with a Mailchimp sandbox both ways and report what happened."""
    plugins = plugins_with_warnings()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with ExitStack() as stack:
        shop = shop_side(stack, plugins, config)
        audience = find_sandbox(plugins, "mailchimp")(batch_seconds=0.5)  # type: ignore[call-arg]
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
        hub_config = load_config(path, plugins)
        store = open_store(f"sqlite:///{folder / 'crmhub.db'}")
        console.rule("crmhub demo: the shop and Mailchimp, both ways")
        first = run_sync(store, hub_config, plugins)
        _print_pass("First sync", first)
        console.rule("Two more syncs with nothing changed outside: they settle, then write nothing")
        writes = []
        for _ in range(2):
            before = len(audience.requests)
            run_sync(store, hub_config, plugins)
            writes.append(sum(1 for r in audience.requests[before:] if r.method != "GET"))
        with store.session() as session:
            facts = demo_facts(session, SHOP, NEWSLETTER)
        store.close()
    _report(facts, first, writes, path)


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


def _report(facts: DemoFacts, first: list[StreamResult], writes: list[int], path: Path) -> None:
    read = sum(r.counts.get("read", 0) for r in first if r.phase == "pull")
    conflicts = ", ".join(f"{n} {kind}" for kind, n in sorted(facts.conflicts.items())) or "none"
    rows = [
        [
            "customers unified",
            f"{read} records from 2 systems -> {facts.customers} customers",
            f"crmhub customers list -c {path}",
        ],
        [
            "duplicates avoided",
            f"{len(facts.unified)} people in both systems, one record each",
            f"crmhub customers show {example(facts.unified)} -c {path}",
        ],
        [
            "consent propagated",
            f"{len(facts.opt_outs)} unsubscribed in Mailchimp: opted out in "
            "the hub although the shop's sheet says yes",
            f"crmhub customers show {example(facts.opt_outs)} -c {path}",
        ],
        [
            "no consent, no campaigns",
            f"{len(facts.refused)} shop customers without marketing consent are in Mailchimp, "
            f"unsubscribed or transactional; subscribed: {len(facts.refused_but_subscribed)}",
            f"crmhub customers show {example(facts.refused)} -c {path}",
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
            f"writes at Mailchimp: second sync {writes[0]}, third sync {writes[1]}",
            f"crmhub runs list -c {path}",
        ],
    ]
    print_table("What the demo did", ["", "result", "look with"], rows)
