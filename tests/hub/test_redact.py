"""hub.redact: the one place secret values are masked, in payloads and in log text."""

from __future__ import annotations

from hub.redact import REDACTED, mask, scrub


def test_a_secret_containing_another_is_masked_whole() -> None:
    secrets = ["tok", "tok-en-42"]
    assert mask("sent tok-en-42 and tok", secrets) == f"sent {REDACTED} and {REDACTED}"
    assert scrub({"note": "tok-en-42"}, secrets) == {"note": REDACTED}


def test_scrub_masks_secret_keys_and_values_in_nested_payloads() -> None:
    payload = {"password": "x", "items": [{"memo": "key s3cr3t here"}], "n": 1}
    assert scrub(payload, ["s3cr3t"]) == {
        "password": REDACTED,
        "items": [{"memo": f"key {REDACTED} here"}],
        "n": 1,
    }
