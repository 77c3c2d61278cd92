"""Segment and trigger sections: every mistake reported at its file:line."""

from __future__ import annotations

import pytest

from tests.hub.config.fakes import ErrorLines

BASE = """\
store: sqlite:///hub.db
connections:
  mail:
    connector: fakeshop
    config: {shop: acme.example.com, access_token: "${SHOP_TOKEN}"}
"""


@pytest.fixture(autouse=True)
def shop_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "tok")


def test_segment_rule_mistakes_are_reported_at_their_lines(config_errors: ErrorLines) -> None:
    errors = config_errors(
        BASE
        + """\
segments:
  lapsed:
    push_to: [mial]
    rules:
      - {field: last_ordr_at, older_than: 730d}
      - {field: rfm_segment, older_than: 30d}
      - {consent: email, tag: vip}
      - {field: frequency, within_next: 7d}
"""
    )
    assert errors == [
        "crmhub.yaml:8:15: segments.lapsed.push_to[0]: no connection named 'mial'; "
        "did you mean 'mail'? (defined: mail)",
        "crmhub.yaml:10:10: segments.lapsed.rules[0].field: no segment field 'last_ordr_at'; "
        "did you mean 'last_order_at'?",
        "crmhub.yaml:11:9: segments.lapsed.rules[1]: older than needs a date field, "
        "not rfm_segment",
        "crmhub.yaml:12:9: segments.lapsed.rules[2]: a rule needs exactly one of field, "
        "bought_category, consent or tag",
        "crmhub.yaml:13:9: segments.lapsed.rules[3]: within_next applies to birth_date, "
        "first_order_at, not frequency",
    ]


def test_trigger_needs_the_parameters_of_its_event(config_errors: ErrorLines) -> None:
    errors = config_errors(BASE + "triggers:\n  big:\n    event: order_over\n    segment: big\n")
    assert errors == ["crmhub.yaml:7:3: triggers.big: event: order_over needs amount"]


def test_trigger_needs_a_segment_of_its_own(config_errors: ErrorLines) -> None:
    errors = config_errors(
        BASE
        + """\
segments:
  vip:
    rules: [{field: rfm_segment, in: [champion]}]
triggers:
  welcome:
    event: first_order
    segment: vip
"""
    )
    assert errors == [
        "crmhub.yaml:12:5: triggers.welcome.segment: segment 'vip' is defined by rules "
        "under segments; a trigger needs a segment of its own"
    ]


def test_a_webhook_secret_written_in_the_file_is_refused_at_its_line(
    config_errors: ErrorLines,
) -> None:
    errors = config_errors(
        BASE
        + """\
triggers:
  big:
    event: order_over
    amount: 100
    webhook: {url: "https://hooks.example.com/crm", secret: plain-text-key}
"""
    )
    assert len(errors) == 1 and errors[0].startswith("crmhub.yaml:10:")
    assert "triggers.big.webhook.secret" in errors[0] and "plain-text-key" not in errors[0]


def test_a_trigger_needs_an_action(config_errors: ErrorLines) -> None:
    errors = config_errors(BASE + "triggers:\n  big:\n    event: first_order\n")
    assert errors == [
        "crmhub.yaml:7:3: triggers.big: a trigger needs an action: segment, webhook or task"
    ]
