"""What the pull loaders read back from crmhub sync's own report."""

from __future__ import annotations

import json

from bench.loaders import _sync_counts


def test_the_counts_of_every_run_are_summed() -> None:
    runs = [
        {"connection": "crm", "counts": {"read": 10, "created": 8, "dead_letters": 2}},
        {"connection": "shop", "counts": {"read": 5, "merged": 1}},
    ]
    assert _sync_counts(json.dumps(runs)) == {
        "read": 15,
        "created": 8,
        "dead_letters": 2,
        "merged": 1,
    }


def test_a_run_that_printed_nothing_reports_no_counts() -> None:
    assert _sync_counts("") == {}
