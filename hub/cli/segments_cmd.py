"""`crmhub segments list|show|evaluate` and `crmhub triggers history`.

Evaluation runs every plugin's refresh hook (metrics, segments, triggers in
hook order); listing only reads what the last evaluation stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func
from sqlmodel import col, select

from hub.cli.context import store_for
from hub.cli.output import ConfigOption, JsonOption, fail, print_json, print_table, reports_errors
from hub.store.tables import CustomerRow, SegmentMember, TriggerFiring

__all__ = ["AsOfOption", "as_of_or_now", "segments_app", "triggers_app"]

segments_app = typer.Typer(help="Customer segments from the config.", no_args_is_help=True)
triggers_app = typer.Typer(help="Campaign triggers and their firings.", no_args_is_help=True)
AsOfOption = Annotated[
    datetime | None,
    typer.Option("--as-of", help="Compute as of this UTC time instead of now (YYYY-MM-DD)"),
]


def as_of_or_now(as_of: datetime | None) -> datetime:
    return datetime.now(UTC) if as_of is None else as_of.replace(tzinfo=UTC)


@segments_app.command("evaluate")
@reports_errors
def evaluate(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
) -> None:
    """Recompute metrics, segments and triggers; queue pushes; run webhooks and CRM tasks."""
    hub_config, plugins, store = store_for(config)
    results = plugins.refresh(store, hub_config, as_of_or_now(as_of))
    if as_json:
        print_json({result.plugin: result.counts for result in results})
        return
    rows = [(r.plugin, ", ".join(f"{k} {v}" for k, v in r.counts.items())) for r in results]
    print_table("Evaluated", ("plugin", "counts"), rows)


@segments_app.command("list")
@reports_errors
def list_segments(config: ConfigOption = Path("crmhub.yaml"), as_json: JsonOption = False) -> None:
    """Segments defined in the config (rules and triggers), with their stored sizes."""
    hub_config, _, store = store_for(config)
    with store.session() as session:
        sizes = {
            str(name): int(n)
            for name, n in session.execute(
                select(SegmentMember.segment, func.count()).group_by(col(SegmentMember.segment))
            )
        }
    defined = [
        (name, "rules", segment.channel, segment.push_to)
        for name, segment in hub_config.segments.items()
    ] + [
        (t.segment, f"trigger {name}", t.channel, t.push_to)
        for name, t in hub_config.triggers.items()
        if t.segment is not None
    ]
    if as_json:
        print_json(
            [
                {
                    "segment": name,
                    "from": source,
                    "channel": channel.value if channel else None,
                    "members": sizes.get(name, 0),
                    "push_to": push_to,
                }
                for name, source, channel, push_to in defined
            ]
        )
        return
    print_table(
        "Segments",
        ("segment", "from", "channel", "members", "pushed to"),
        [
            (name, source, channel, sizes.get(name, 0), ", ".join(push_to))
            for name, source, channel, push_to in defined
        ],
    )


@segments_app.command("show")
@reports_errors
def show_segment(
    name: Annotated[str, typer.Argument(help="Segment name")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="At most this many members")] = 50,
) -> None:
    """The members of one segment, most recent first."""
    hub_config, _, store = store_for(config)
    known = set(hub_config.segments) | {
        t.segment for t in hub_config.triggers.values() if t.segment is not None
    }
    if name not in known:
        defined = ", ".join(sorted(known)) or "none"
        raise fail(f"no segment named {name!r} in the config (defined: {defined})")
    with store.session() as session:
        members = session.exec(
            select(SegmentMember.hub_id, CustomerRow.primary_email, SegmentMember.joined_at)
            .join(CustomerRow, col(CustomerRow.hub_id) == col(SegmentMember.hub_id))
            .where(SegmentMember.segment == name)
            .order_by(col(SegmentMember.joined_at).desc(), col(SegmentMember.hub_id))
            .limit(limit)
        ).all()
    rows = [{"hub_id": h, "email": e, "joined_at": j} for h, e, j in members]
    if as_json:
        print_json(rows)
        return
    print_table(f"Segment {name}", ("hub id", "e-mail", "joined"), [list(r.values()) for r in rows])


@triggers_app.command("history")
@reports_errors
def history(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    trigger: Annotated[str | None, typer.Option(help="Only this trigger")] = None,
    limit: Annotated[int, typer.Option(help="At most this many firings")] = 100,
) -> None:
    """Every firing: who, which trigger and occasion, when, and what it did."""
    _, _, store = store_for(config)
    query = select(TriggerFiring).order_by(col(TriggerFiring.fired_at).desc()).limit(limit)
    if trigger is not None:
        query = query.where(TriggerFiring.trigger == trigger)
    with store.session() as session:
        rows = [f.model_dump() for f in session.exec(query)]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Trigger firings",
        ("fired", "trigger", "hub id", "occasion", "action", "result"),
        [
            (r["fired_at"], r["trigger"], r["hub_id"], r["occasion"], r["action"], r["result"])
            for r in rows
        ],
    )
