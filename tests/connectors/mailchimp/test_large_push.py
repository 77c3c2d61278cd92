"""A large push through `crmhub sync` goes to Mailchimp as batch operations.

The engine hands a connector ``push_batch_size`` pending changes per write;
Mailchimp's is past its ``batch_threshold``, so 300 new people from a
spreadsheet reach the audience through ``POST /batches`` rather than 300
single PUTs, and every one of them ends up a member with their merge fields.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import yaml

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import open_store
from hub.testing.serve import running

PEOPLE = 300


def _config(tmp_path: Path, url: str, sandbox: MailchimpSandbox) -> Path:
    with (tmp_path / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "given", "optin"])
        writer.writerows([f"C{i}", f"p{i}@example.com", f"P{i}", "yes"] for i in range(PEOPLE))
    (tmp_path / "key.secret").write_text(API_KEY, encoding="utf-8")
    config = {
        "connections": {
            "sheet": {
                "connector": "files",
                "direction": "pull",
                "streams": ["customers"],
                "config": {
                    "path": "people.csv",
                    "columns": {
                        "id": "external_id",
                        "email": "email",
                        "given": "first_name",
                        "optin": "consent.email",
                    },
                },
            },
            "newsletter": {
                "connector": "mailchimp",
                "direction": "push",
                "streams": ["customers"],
                "config": {
                    **sandbox.config_for(url),
                    "api_key": "file:key.secret",
                    "batch_poll_seconds": 0.05,
                },
            },
        }
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_push_of_hundreds_goes_through_batch_operations(tmp_path: Path) -> None:
    sandbox = MailchimpSandbox(batch_seconds=0)
    with running(sandbox) as url:
        plugins = load_plugins()
        config = load_config(_config(tmp_path, url, sandbox), plugins)
        store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
        try:
            results = asyncio.run(sync(store, config, plugins))
        finally:
            store.close()
    assert all(r.status == "succeeded" for r in results), [r.error for r in results]
    assert sandbox.batches, "no POST /batches reached the sandbox"
    single_puts = [r for r in sandbox.requests if r.method == "PUT" and "/members/" in r.path]
    assert len(single_puts) < PEOPLE / 2
    for i in range(PEOPLE):
        member = sandbox.members[subscriber_hash(f"p{i}@example.com")]
        assert member["merge_fields"]["FNAME"] == f"P{i}"
