"""The `service:` section: defaults that suit one machine, and located errors."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Address

from hub.config import HubConfig
from tests.hub.config.fakes import ErrorLines, LoadText


def test_the_defaults_listen_on_loopback_only(load_text: LoadText) -> None:
    service = load_text("store: sqlite:///hub.db\n").service
    assert service.host == IPv4Address("127.0.0.1")
    assert (service.port, service.poll, service.grace) == (
        8780,
        timedelta(seconds=2),
        timedelta(seconds=30),
    )
    assert HubConfig.model_fields["service"].description


def test_bad_values_are_reported_at_their_line(config_errors: ErrorLines) -> None:
    errors = config_errors(
        "store: sqlite:///hub.db\nservice:\n  host: localhost\n  port: 70000\n  poll: soon\n"
    )
    assert [error.split(":")[1] for error in errors] == ["3", "4", "5"]
    assert "service.host" in errors[0] and "IP" in errors[0]
    assert "service.port" in errors[1] and "65535" in errors[1]
    assert "service.poll" in errors[2]


def test_a_zero_poll_is_refused(config_errors: ErrorLines) -> None:
    [error] = config_errors("service: {poll: 0}\n")
    assert error.startswith("crmhub.yaml:1:") and "'poll' must be longer than 0s" in error
