"""Hub segments pushed to the Mailchimp sandbox as static segments, through the real engine.

The segments plugin decides who is in a segment and queues the changes; the
push writes them with the Mailchimp connector configured for static
segments. What the sandbox holds, and how many requests changed something,
is what is checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.config import HubConfig
from hub.engine.context import StreamContext
from hub.engine.push import push_stream
from hub.http import VirtualClock
from hub.plugins import load_plugins
from hub.store.database import Store
from tests.connectors.mailchimp.helpers import connector
from tests.plugins.seed import customer, day, order

pytestmark = pytest.mark.anyio
AS_OF = day("2026-12-01")
SUBSCRIBED = {"email": {"status": "subscribed", "recorded_at": "2025-01-01T00:00:00+00:00"}}


def _config() -> HubConfig:
    return HubConfig.model_validate(
        {
            "connections": {
                "newsletter": {
                    "connector": "mailchimp",
                    "direction": "push",
                    "streams": ["segment_members"],
                    "config": {
                        "api_key": "k-us1",
                        "list_id": "l",
                        "segments_as": "static_segments",
                    },
                }
            },
            "segments": {
                "win_back": {
                    "channel": "email",
                    "push_to": ["newsletter"],
                    "rules": [{"field": "last_order_at", "older_than": "730d"}],
                }
            },
        },
        context={"plugins": load_plugins()},
    )


async def _push(store: Store, sandbox: MailchimpSandbox) -> dict[str, Any]:
    mailchimp = connector(sandbox, segments_as="static_segments")
    ctx = StreamContext(store, mailchimp, "segment_members", run_id=1)
    await push_stream(ctx)
    await mailchimp.aclose()
    return dict(ctx.counts)


async def test_a_hub_segment_becomes_a_static_segment_and_follows_joins_and_leaves(
    store: Store,
) -> None:
    sandbox = MailchimpSandbox(clock=VirtualClock())
    for hub_id in ("ann", "bob"):
        email = f"{hub_id}@example.com"
        sandbox.add_member(email, "subscribed")
        customer(store, hub_id, emails=[email], consents=SUBSCRIBED)
        order(store, hub_id, "2023-05-01", "90")
    config, plugins = _config(), load_plugins()
    plugins.refresh(store, config, AS_OF)

    assert (await _push(store, sandbox))["pushed"] == 2
    assert sorted(sandbox.static_segments.named("win_back")) == [
        "ann@example.com",
        "bob@example.com",
    ]
    writes = sandbox.writes
    assert (await _push(store, sandbox)).get("pushed", 0) == 0
    assert sandbox.writes == writes, "nothing new: nothing written"

    order(store, "ann", "2026-11-28", "40")  # Ann came back: she leaves the segment
    plugins.refresh(store, config, AS_OF)
    assert (await _push(store, sandbox))["pushed"] == 1
    assert sandbox.static_segments.named("win_back") == ["bob@example.com"]
    assert len(sandbox.static_segments.segments) == 1
