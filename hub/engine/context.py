"""What one stream's pull or push needs to know, passed down instead of globals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hub.connector import Connector
from hub.engine.identity import IdentityRules
from hub.engine.merge import MergeRules
from hub.store.database import Store

__all__ = ["COUNT_KEYS", "StreamContext", "View"]

View = Callable[[dict[str, Any]], dict[str, Any]]
"""A canonical record as one connection's push compares it (see hub.engine.push.push_view)."""

COUNT_KEYS = (
    "read",
    "created",
    "updated",
    "unchanged",
    "merged",
    "deleted",
    "conflicts",
    "dead_letters",
    "pushed",
    "rejected",
    "differences",
)


@dataclass
class StreamContext:
    store: Store
    connector: Connector
    stream: str
    run_id: int
    identity: IdentityRules = field(default_factory=IdentityRules)
    merge: MergeRules = field(default_factory=MergeRules)
    full_run: bool = False
    subscribers: tuple[str, ...] = ()
    views: Mapping[str, View] = field(default_factory=dict)
    """Per subscriber, what its push compares; one without a view hears of every change."""
    initial_sync: Literal["hub", "remote", "review"] = "hub"
    commit_records: int = 1000
    """A pull commits once this many records are staged (and sooner when the next page is
    not there yet): each commit rewrites the index pages it touched, so fewer commits write
    less. 1 commits every page alone."""
    worker_after: int | None = 2000
    """A pull of customers from a connector with pure mapping starts a worker process to map
    its pages once it has mapped this many records here (hub/engine/mapworker.py); None
    never does. Below it, starting the process costs more than it saves."""
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def connection(self) -> str:
        return self.connector.connection
