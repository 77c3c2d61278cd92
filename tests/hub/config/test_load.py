"""Valid config files: what they load into, and how references resolve."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.config import HubConfig, load_config, parse_duration, redact_url
from hub.plugins import Plugins, load_plugins
from tests.hub.config.fakes import LoadText, SheetSettings, ShopSettings


def test_env_and_file_secrets_resolve_into_secretstr(
    load_text: LoadText, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "from-env")
    monkeypatch.setenv("DB_PASSWORD", "pw")
    monkeypatch.setenv("REGION", "eu")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "backup-token").write_text("from-file\n", encoding="utf-8")
    config = load_text(
        """\
        store: postgresql://hub:${DB_PASSWORD}@db.example.com/hub
        connections:
          shop:
            connector: fakeshop
            config: {shop: acme.example.com, access_token: "${SHOP_TOKEN}"}
            direction: both
            schedule: {every: 1h30m, jitter: 30s}
          backup:
            connector: fakeshop
            config: {shop: "backup-${REGION}", access_token: file:secrets/backup-token}
        """
    )
    shop, backup = config.connections["shop"].settings, config.connections["backup"].settings
    assert isinstance(shop, ShopSettings) and isinstance(backup, ShopSettings)
    assert isinstance(shop.access_token, SecretStr)
    assert shop.access_token.get_secret_value() == "from-env"
    assert backup.access_token.get_secret_value() == "from-file"
    assert backup.shop == "backup-eu"
    assert config.store == "postgresql://hub:pw@db.example.com/hub"
    assert redact_url(config.store) == "postgresql://hub:***@db.example.com/hub"
    for secret in ("from-env", "from-file", "pw@"):
        assert secret not in repr(config)
    schedule = config.connections["shop"].schedule
    assert schedule is not None
    assert (schedule.every, schedule.cron, schedule.jitter) == (
        timedelta(hours=1, minutes=30),
        None,
        timedelta(seconds=30),
    )


def test_defaults(load_text: LoadText) -> None:
    config = load_text(
        """\
        connections:
          sheet: {connector: fakesheet, config: {path: people.csv}}
        """
    )
    sheet = config.connections["sheet"]
    assert config.store == "sqlite:///crmhub.db"
    assert (sheet.direction, sheet.streams, sheet.schedule) == ("pull", ["customers"], None)
    assert sheet.settings == SheetSettings(path="people.csv")
    assert {name: rule.limit for name, rule in config.identity.identifiers.items()} == {
        "email": 3,
        "phone": 3,
    }
    assert (config.identity.max_cluster, config.identity.candidates) == (10, None)
    assert (config.merge.skew, config.merge.fields) == (timedelta(minutes=5), {})


def test_push_defaults_to_the_streams_the_connector_writes(
    load_text: LoadText, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "t")
    config = load_text(
        """\
        connections:
          shop:
            connector: fakeshop
            direction: push
            config: {shop: acme.example.com, access_token: "${SHOP_TOKEN}"}
            default_region: es
        """
    )
    assert config.connections["shop"].streams == ["customers"]
    assert config.connections["shop"].default_region == "ES"


def test_full_identity_and_merge_sections(load_text: LoadText) -> None:
    config = load_text(
        """\
        connections:
          sheet: {connector: fakesheet, config: {path: people.csv}, schedule: {cron: "0 3 * * *"}}
        identity:
          identifiers: {email: {limit: 2}, tax_id: {limit: 1}}
          never_link: ["info@*", "+10000000000"]
          max_cluster: 5
          candidates: {fields: [last_name, postcode], review_above: 0.9}
        merge:
          source_priority: [sheet]
          skew: 2m
          fields: {tags: {policy: set}, phones: {policy: owner, owner: sheet}}
        """
    )
    assert config.identity.identifiers["tax_id"].limit == 1
    assert config.identity.never_link == ["info@*", "+10000000000"]
    assert config.identity.candidates is not None
    assert config.identity.candidates.fields == ["last_name", "postcode"]
    assert config.merge.fields["phones"].owner == "sheet"
    assert config.merge.skew == timedelta(minutes=2)


def test_yaml_anchors_and_merge_keys(load_text: LoadText) -> None:
    config = load_text(
        """\
        connections:
          a: &sheet {connector: fakesheet, config: {path: a.csv}}
          b:
            <<: *sheet
            config: {path: b.csv}
        """
    )
    assert config.connections["b"].settings == SheetSettings(path="b.csv")
    assert config.connections["b"].connector == "fakesheet"


def test_file_prefix_is_only_a_reference_in_secret_fields(load_text: LoadText) -> None:
    config = load_text("connections:\n  s: {connector: fakesheet, config: {path: 'file:x.csv'}}\n")
    assert config.connections["s"].settings == SheetSettings(path="file:x.csv")


def test_validating_in_code_takes_a_settings_object(plugins: Plugins) -> None:
    """What engine tests do: no YAML, plugins in the context, settings already built."""
    connection = {"connector": "fakesheet", "config": SheetSettings(path="x.csv")}
    config = HubConfig.model_validate(
        {"connections": {"s": connection}}, context={"plugins": plugins}
    )
    assert config.connections["s"].settings == SheetSettings(path="x.csv")


def test_validating_without_plugins_says_how() -> None:
    with pytest.raises(TypeError, match="context="):
        HubConfig.model_validate({"connections": {"s": {"connector": "fakesheet"}}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("0", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "1m1h", "PT5M", "-5m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_redact_url() -> None:
    assert redact_url("sqlite:///crmhub.db") == "sqlite:///crmhub.db"
    assert redact_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "s3cret" not in redact_url("not a url s3cret")


def test_init_template_is_a_valid_config() -> None:
    plugins = load_plugins()
    if "files" not in plugins.connectors:
        pytest.skip("the files connector is not installed")
    template = files("hub.templates").joinpath("crmhub.yaml")
    with_path = Path(str(template))
    config = load_config(with_path, plugins)
    assert config.connections["spreadsheet"].connector == "files"
