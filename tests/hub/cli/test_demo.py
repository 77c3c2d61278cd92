"""`crmhub demo` end to end: a Shopify and a Mailchimp sandbox on loopback, synced both ways.

The figures the demo reports are read from the store and from the sandboxes'
own state, so these assertions check what the engine did.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def test_the_demo_unifies_keeps_opt_outs_subscribes_no_one_and_settles(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--folder", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)

    assert facts["customers"] < facts["records_read"]  # people in both systems are one customer
    assert facts["in_both_systems"] > 200
    assert 0 < facts["duplicates_avoided"] == facts["records_read"] - facts["customers"]
    assert facts["opted_out_in_mailchimp"] > 0
    assert facts["opt_outs_reaching_shopify"] == facts["opted_out_in_mailchimp"]
    assert facts["without_consent_in_mailchimp"] > 0
    assert facts["subscribed_by_crmhub_without_consent"] == 0
    # After the first sync, two more write nothing anywhere, queue nothing and plan nothing.
    assert facts["writes_on_reruns"] == [{"mailchimp": 0, "shopify": 0}] * 2
    assert facts["pushes_on_reruns"] == [{"queued": 0, "planned": 0}] * 2
    written = (folder / "crmhub.yaml").read_text()
    assert "file:" in written and "sandbox-token" not in written, "secrets go to files"
    _assert_one_address_per_place(folder / "crmhub.yaml")


def _assert_one_address_per_place(config: Path) -> None:
    """Mailchimp's ADDRESS merge field has no company: the shop's address read back from it
    is the same place, not a second, company-less address (issue 8)."""
    listed = CliRunner().invoke(app, ["customers", "list", "-c", str(config), "--json"])
    assert listed.exit_code == 0, listed.output
    with_company = 0
    for customer in json.loads(listed.stdout):
        places = [
            (
                a.get("kind"),
                " ".join(a["line1"].casefold().split()),
                a.get("postcode"),
                a["country"],
            )
            for a in customer.get("addresses", [])
        ]
        assert len(places) == len(set(places)), f"one place twice: {customer['addresses']}"
        with_company += any(a.get("company") for a in customer.get("addresses", []))
    assert with_company > 0, "the shop's companies are kept"
