"""Every kind of config error, checked for its file:line:column and its wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.plugins import Plugins
from tests.hub.config.fakes import ErrorLines

SECRET = "tok-5ecret-value-42"

SHOP = """\
store: sqlite:///hub.db
connections:
  shop:
    connector: fakeshop
    config: {shop: acme.example.com, access_token: "${SHOP_TOKEN}"}
"""


@pytest.fixture(autouse=True)
def shop_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_TOKEN", SECRET)


def test_yaml_syntax_error(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    streams: [customers\n") == [
        "crmhub.yaml:7:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 6)"
    ]


def test_empty_file(config_errors: ErrorLines) -> None:
    assert config_errors("# nothing yet\n") == [
        "crmhub.yaml:1:1: the file must be a mapping of settings (store, connections ...), "
        "not nothing"
    ]


def test_duplicate_key(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "  shop:\n    connector: fakesheet\n") == [
        "crmhub.yaml:6:3: duplicate key 'shop' in connections (first at line 3)"
    ]


def test_unknown_top_level_key_with_suggestion(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merg: {skew: 5m}\n") == [
        "crmhub.yaml:6:1: unknown key 'merg' at the top level; did you mean 'merge'?"
    ]


def test_unknown_key_in_a_connection(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    strems: [customers]\n") == [
        "crmhub.yaml:6:5: unknown key 'strems' in connections.shop; did you mean 'streams'?"
    ]


def test_unknown_connector(config_errors: ErrorLines, plugins: Plugins) -> None:
    installed = ", ".join(sorted(plugins.connectors))
    assert config_errors(SHOP.replace("connector: fakeshop", "connector: fakeshp")) == [
        "crmhub.yaml:4:5: connections.shop.connector: connector 'fakeshp' is not installed; "
        f"did you mean 'fakeshop'? (installed: {installed})"
    ]


def test_unknown_stream(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    streams: [customers, ordrs]\n") == [
        "crmhub.yaml:6:26: connections.shop.streams[1]: connector 'fakeshop' cannot read "
        "stream 'ordrs'; did you mean 'orders'? (it can read: customers, orders)"
    ]


def test_push_stream_the_connector_cannot_write(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    direction: push\n    streams: [orders]\n") == [
        "crmhub.yaml:7:15: connections.shop.streams[0]: connector 'fakeshop' cannot write "
        "stream 'orders' (it can write: customers)"
    ]


def test_push_to_a_read_only_connector(config_errors: ErrorLines) -> None:
    text = "connections:\n  sheet:\n    connector: fakesheet\n    direction: both\n"
    assert config_errors(text + "    config: {path: people.csv}\n") == [
        "crmhub.yaml:4:5: connections.sheet.direction: connector 'fakesheet' only reads, "
        "so direction must be 'pull'"
    ]


def test_value_outside_a_choice_is_quoted(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    direction: sideways\n") == [
        "crmhub.yaml:6:5: connections.shop.direction: input should be 'pull', 'push' or "
        "'both', got 'sideways'"
    ]


def test_bad_duration(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    schedule: {every: 5 minutes}\n") == [
        "crmhub.yaml:6:16: connections.shop.schedule.every: '5 minutes' is not a duration; "
        "write a number with a unit (s, m, h, d), e.g. 30s, 5m, 1h30m or 1d"
    ]


def test_cron_and_every_both_set(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    schedule: {every: 5m, cron: '*/5 * * * *'}\n") == [
        "crmhub.yaml:6:5: connections.shop.schedule: set 'every' or 'cron', not both"
    ]


def test_bad_cron(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    schedule:\n      cron: '*/5 * *'\n") == [
        "crmhub.yaml:7:7: connections.shop.schedule.cron: '*/5 * *' is not a 5-field cron "
        "expression (minute hour day month weekday): Wrong number of fields; got 3, expected 5"
    ]


def test_inline_secret(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace('"${SHOP_TOKEN}"', SECRET)) == [
        "crmhub.yaml:5:38: connections.shop.config.access_token: write the secret as "
        "${ENV_VAR} or file:PATH so it stays out of the config file"
    ]


def test_unset_environment_variable(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace("SHOP_TOKEN", "NO_SUCH_TOKEN")) == [
        "crmhub.yaml:5:38: connections.shop.config.access_token: environment variable "
        "NO_SUCH_TOKEN is not set"
    ]


def test_unset_variable_in_store_url(config_errors: ErrorLines) -> None:
    text = SHOP.replace("sqlite:///hub.db", "postgresql://hub:${NO_SUCH_PASSWORD}@db/hub")
    assert config_errors(text) == [
        "crmhub.yaml:1:1: store: environment variable NO_SUCH_PASSWORD is not set"
    ]


def test_inline_store_password(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace("sqlite:///hub.db", f"postgresql://hub:{SECRET}@db/hub")) == [
        "crmhub.yaml:1:1: store: write the store password as ${ENV_VAR} so it stays out of "
        "the config file"
    ]


def test_unsupported_store(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace("sqlite:///hub.db", "mysql://hub@db/hub")) == [
        "crmhub.yaml:1:1: store: crmhub cannot keep its data in 'mysql'; write sqlite:///FILE "
        "or postgresql://USER@HOST/DATABASE"
    ]


def test_missing_secret_file(config_errors: ErrorLines, tmp_path: Path) -> None:
    text = SHOP.replace('"${SHOP_TOKEN}"', "file:secrets/shop-token")
    assert config_errors(text) == [
        "crmhub.yaml:5:38: connections.shop.config.access_token: secret file "
        f"{tmp_path / 'secrets' / 'shop-token'} does not exist"
    ]


def test_source_priority_names_an_undefined_connection(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merge:\n  source_priority: [shop, shp]\n") == [
        "crmhub.yaml:7:27: merge.source_priority[1]: no connection named 'shp'; "
        "did you mean 'shop'? (defined: shop)"
    ]


def test_connection_listed_twice_in_source_priority(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merge:\n  source_priority: [shop, shop]\n") == [
        "crmhub.yaml:7:27: merge.source_priority[1]: connection 'shop' is listed twice"
    ]


def test_owner_policy_without_owner(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merge:\n  fields:\n    phones: {policy: owner}\n") == [
        "crmhub.yaml:8:5: merge.fields.phones: policy 'owner' needs 'owner:' naming the "
        "connection that owns it"
    ]


def test_owner_must_be_a_connection(config_errors: ErrorLines) -> None:
    text = SHOP + "merge:\n  fields:\n    phones: {policy: owner, owner: crm}\n"
    assert config_errors(text) == [
        "crmhub.yaml:8:29: merge.fields.phones.owner: no connection named 'crm' (defined: shop)"
    ]


def test_merge_field_must_be_a_customer_field(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merge:\n  fields:\n    phone: {policy: priority}\n") == [
        "crmhub.yaml:8:5: merge.fields.phone: no customer field 'phone'; did you mean 'phones'?"
    ]


def test_invalid_default_region(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    default_region: Narnia\n") == [
        "crmhub.yaml:6:5: connections.shop.default_region: 'Narnia' is not an ISO 3166 "
        "country; write a code such as ES, DE or US"
    ]


def test_invalid_connection_name(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace("  shop:", "  Shop:")) == [
        "crmhub.yaml:3:3: connections.Shop: connection name 'Shop' must start with a-z and "
        "hold only a-z, 0-9, '-' and '_'"
    ]


def test_errors_inside_a_connectors_own_config(config_errors: ErrorLines) -> None:
    text = """\
    connections:
      shop:
        connector: fakeshop
        config:
          access_token: ${SHOP_TOKEN}
          page_size: 0
          pagesize: 10
    """
    assert config_errors(text) == [
        "crmhub.yaml:4:5: connections.shop.config: missing required key 'shop'",
        "crmhub.yaml:6:7: connections.shop.config.page_size: input should be greater than or "
        "equal to 1, got 0",
        "crmhub.yaml:7:7: unknown key 'pagesize' in connections.shop.config; "
        "did you mean 'page_size'?",
    ]


def test_a_connectors_own_validator_message(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP.replace("shop: acme.example.com", "shop: https://acme")) == [
        "crmhub.yaml:5:14: connections.shop.config.shop: shop is a host name, not a URL, "
        "got 'https://acme'"
    ]


def test_empty_stream_list(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    streams: []\n") == [
        "crmhub.yaml:6:5: connections.shop.streams: list should have at least 1 item after "
        "validation, not 0"
    ]


def test_missing_connector_key(config_errors: ErrorLines) -> None:
    assert config_errors("connections:\n  shop:\n    streams: [customers]\n") == [
        "crmhub.yaml:2:3: connections.shop: missing required key 'connector'"
    ]


def test_several_errors_reported_together_sorted_by_line(
    config_errors: ErrorLines, plugins: Plugins
) -> None:
    text = """\
    merge:
      skew: soon
      source_priority: [sheet]
    conections: {}
    connections:
      shop:
        connector: nosuch
        config: {shop: acme}
    """
    installed = ", ".join(sorted(plugins.connectors))
    assert config_errors(text) == [
        "crmhub.yaml:2:3: merge.skew: 'soon' is not a duration; write a number with a unit "
        "(s, m, h, d), e.g. 30s, 5m, 1h30m or 1d",
        "crmhub.yaml:3:21: merge.source_priority[0]: no connection named 'sheet' (defined: shop)",
        "crmhub.yaml:4:1: unknown key 'conections' at the top level; did you mean 'connections'?",
        "crmhub.yaml:7:5: connections.shop.connector: connector 'nosuch' is not installed "
        f"(installed: {installed})",
    ]


def test_secret_values_never_appear_in_errors(config_errors: ErrorLines) -> None:
    """A connector validator that quotes its input must not leak a resolved secret."""
    text = SHOP.replace("sqlite:///hub.db", "postgresql://hub:${SHOP_TOKEN}@db/hub")
    text += f"    streams: ['{SECRET}']\n    direction: ${{SHOP_TOKEN}}\n"
    errors = config_errors(text)
    assert len(errors) == 2
    assert SECRET not in "\n".join(errors)
    assert "***" in errors[0]


def test_control_character(config_errors: ErrorLines) -> None:
    assert config_errors("store: sqlite:///hub.db\nconnections: {}\nmerge: {skew: 5\x07m}\n") == [
        "crmhub.yaml:3:16: YAML syntax error: character #x0007 is not allowed"
    ]


def test_unknown_yaml_tag(config_errors: ErrorLines) -> None:
    assert config_errors("store: !env DATABASE_URL\n") == [
        "crmhub.yaml:1:8: YAML syntax error: could not determine a constructor for the tag '!env'"
    ]


def test_top_level_must_be_a_mapping(config_errors: ErrorLines) -> None:
    assert config_errors("- store\n- connections\n") == [
        "crmhub.yaml:1:1: the file must be a mapping of settings (store, connections ...), "
        "not a list"
    ]


def test_unreadable_file(config_path: Path, plugins: Plugins) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_path, plugins)
    assert str(caught.value) == (
        f"{config_path}: cannot read the config file: No such file or directory"
    )


def test_odd_mapping_keys(config_errors: ErrorLines) -> None:
    text = "? [a, b]\n: 1\nconnections:\n  x:\n    <<: [1]\n    connector: fakesheet\n"
    assert config_errors(text) == [
        "crmhub.yaml:1:3: a key must be a plain value",
        "crmhub.yaml:4:3: connections.x.config: missing required key 'path'",
        "crmhub.yaml:5:10: '<<' merges only mappings",
    ]


def test_config_must_be_a_mapping(config_errors: ErrorLines) -> None:
    assert config_errors("connections:\n  s: {connector: fakesheet, config: people.csv}\n") == [
        "crmhub.yaml:2:29: connections.s.config: config must be a mapping of the "
        "connector's settings"
    ]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("{jitter: 1m}", "set 'every' (e.g. 5m) or 'cron'"),
        ("{every: 0}", "'every' must be longer than 0s"),
    ],
)
def test_schedule_needs_a_positive_trigger(
    config_errors: ErrorLines, schedule: str, message: str
) -> None:
    assert config_errors(SHOP + f"    schedule: {schedule}\n") == [
        f"crmhub.yaml:6:5: connections.shop.schedule: {message}"
    ]


def test_owner_with_another_policy(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "merge:\n  fields:\n    tags: {policy: set, owner: shop}\n") == [
        "crmhub.yaml:8:5: merge.fields.tags: 'owner' only applies to policy 'owner', not 'set'"
    ]


def test_unreadable_secret_file(config_errors: ErrorLines, tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"\xff\xfe\x00")
    assert config_errors(SHOP.replace('"${SHOP_TOKEN}"', "file:token")) == [
        "crmhub.yaml:5:38: connections.shop.config.access_token: cannot read secret file "
        f"{tmp_path / 'token'}: it is not UTF-8 text"
    ]


def test_initial_sync_policy_outside_the_choice(config_errors: ErrorLines) -> None:
    assert config_errors(SHOP + "    initial_sync: {prefer: remote-ish}\n") == [
        "crmhub.yaml:6:20: connections.shop.initial_sync.prefer: input should be 'hub', "
        "'remote' or 'review', got 'remote-ish'"
    ]
