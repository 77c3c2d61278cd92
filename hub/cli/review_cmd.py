"""`crmhub conflicts ...`, `crmhub customers unmerge`, `crmhub deadletters retry`."""

from __future__ import annotations

import asyncio
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import col, select

from hub.cli.context import fetch_one, store_for
from hub.cli.output import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    print_json,
    print_table,
    reports_errors,
)
from hub.engine.context import StreamContext
from hub.engine.held import HOLDING_KINDS
from hub.engine.pull import retry_dead_letters
from hub.engine.review import resolve_conflict, unmerge
from hub.engine.runner import build_connector, engine_rules, subscribers
from hub.store.tables import Conflict, DeadLetter, Run

__all__ = ["conflicts_app", "deadletters_retry", "unmerge_command"]

conflicts_app = typer.Typer(help="Decisions the merge rules left to you.", no_args_is_help=True)


@conflicts_app.command("list")
@reports_errors
def conflicts_list(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    status: Annotated[str, typer.Option(help="open, resolved, superseded or all")] = "open",
    kind: Annotated[
        str | None,
        typer.Option(help="Only field, consent, identity or initial (first-sync differences)"),
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest this many")] = 50,
) -> None:
    """Open conflicts and identity reviews, newest first."""
    _, _, store = store_for(config)
    with store.session() as session:
        query = select(Conflict).order_by(col(Conflict.id).desc()).limit(limit)
        if status != "all":
            query = query.where(Conflict.status == status)
        if kind is not None:
            query = query.where(Conflict.kind == kind)
        conflicts = list(session.exec(query))
    if as_json:
        print_json([c.model_dump() for c in conflicts])
        return
    print_table(
        "Conflicts",
        ["id", "kind", "customer", "field", "what"],
        [[c.id, c.kind, c.hub_id, c.field, _what(c)] for c in conflicts],
    )
    if any(c.status == "open" and c.kind in HOLDING_KINDS for c in conflicts):
        console.print(
            "open field and initial conflicts are held: no sync writes their field",
            highlight=False,
        )
    if conflicts:
        console.print(
            "settle one with `crmhub conflicts resolve ID --take SOURCE | --value V | --dismiss`",
            highlight=False,
        )


def _what(conflict: Conflict) -> str:
    candidates = conflict.candidates
    if conflict.kind == "identity":
        return str(candidates.get("reason", ""))
    kept, other = candidates.get("kept") or {}, candidates.get("other") or {}
    return (
        f"kept {kept.get('value')!r} from {kept.get('source')}, "
        f"other {other.get('value')!r} from {other.get('source')}"
    )


@conflicts_app.command("show")
@reports_errors
def conflicts_show(
    conflict_id: Annotated[int, typer.Argument(help="Conflict id")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """One conflict with every candidate value and where it came from."""
    conflict = fetch_one(config, Conflict, conflict_id, "conflict")
    if as_json:
        print_json(conflict.model_dump())
        return
    console.print(
        f"[bold]conflict {conflict.id}[/] ({conflict.kind}, {conflict.status}) "
        f"customer {conflict.hub_id} field {conflict.field}",
        highlight=False,
    )
    console.print_json(data=conflict.candidates)


@conflicts_app.command("resolve")
@reports_errors
def conflicts_resolve(
    conflict_id: Annotated[int, typer.Argument(help="Conflict id")],
    take: Annotated[str | None, typer.Option("--take", help="Keep this source's value")] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="Set this value (JSON or text)")
    ] = None,
    dismiss: Annotated[
        bool, typer.Option("--dismiss", help="Keep the hub's value (or keep records apart)")
    ] = False,
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Settle a conflict; the customer record and its provenance are updated.

    The settled value is queued for every connection that takes pushes, so the
    next `crmhub sync` writes it (for a first-sync difference: to the system too).
    """
    hub_config, plugins, store = store_for(config)
    targets = subscribers(hub_config, plugins, "customers")
    with store.session() as session:
        conflict = resolve_conflict(
            session, conflict_id, take=take, value=value, dismiss=dismiss, targets=targets
        )
    if as_json:
        print_json(conflict.model_dump())
    else:
        console.print(f"conflict {conflict_id} resolved: {conflict.resolution}", highlight=False)


@reports_errors
def unmerge_command(
    hub_id: Annotated[str, typer.Argument(help="Hub id of the customer a merge kept")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Undo the newest merge into a customer: both records come back as they were."""
    _, _, store = store_for(config)
    with store.session() as session:
        restored = unmerge(session, hub_id)
    if as_json:
        print_json({"kept": hub_id, "restored": restored})
    else:
        console.print(f"unmerged: {restored} is a customer of its own again", highlight=False)


@reports_errors
def deadletters_retry(
    letter_ids: Annotated[list[int] | None, typer.Argument(help="Ids (default: all open)")] = None,
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Run dead letters through the current mapping again (after fixing config or code)."""
    hub_config, plugins, store = store_for(config)
    identity, merge = engine_rules(hub_config)
    with store.session() as session:
        query = select(DeadLetter).where(DeadLetter.status == "open")
        if letter_ids:
            query = query.where(col(DeadLetter.id).in_(letter_ids))
        letters = list(
            session.exec(query.order_by(col(DeadLetter.connection), col(DeadLetter.stream)))
        )
    if letter_ids and len(letters) != len(set(letter_ids)):
        missing = sorted(set(letter_ids) - {letter.id for letter in letters if letter.id})
        raise fail(f"no open dead letter with id {', '.join(map(str, missing))}")
    passed = 0
    for (connection, stream), group in groupby(letters, key=lambda d: (d.connection, d.stream)):
        if connection not in hub_config.connections:
            raise fail(f"dead letters of {connection!r}: that connection is no longer configured")
        with store.session() as session:
            run = Run(connection=connection, stream=stream, status="retry")
            session.add(run)
            session.commit()
        connector = build_connector(hub_config, plugins, connection)
        ctx = StreamContext(
            store, connector, stream, run_id=run.id or 0, identity=identity, merge=merge
        )
        passed += asyncio.run(retry_dead_letters(ctx, list(group)))
    if as_json:
        print_json({"retried": len(letters), "passed": passed})
    else:
        console.print(
            f"{passed} of {len(letters)} dead letters now pass; {len(letters) - passed} stay open",
            highlight=False,
        )
