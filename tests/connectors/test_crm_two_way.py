"""Two CRMs edit one person: different fields both travel, the same field goes to review.

SugarCRM and vTiger sandboxes are served on loopback and synced by the real
runner from a config file, as `crmhub sync` does: every pull, then every push.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.vtiger.sandbox import VtigerSandbox
from hub.config import load_config
from hub.config.models import HubConfig
from hub.engine.review import resolve_conflict
from hub.engine.runner import sync
from hub.plugins import Plugins, load_plugins
from hub.store.database import Store
from hub.store.tables import Conflict
from hub.testing.serve import running

pytestmark = pytest.mark.anyio
EMAIL = "ana.garcia@example.es"


@pytest.fixture
def crms() -> Iterator[tuple[SugarSandbox, VtigerSandbox, dict[str, str]]]:
    sugar, vtiger = SugarSandbox(), VtigerSandbox()
    sugar.add(
        "customers",
        {
            "first_name": "Ana",
            "last_name": "García",
            "email": [{"email_address": EMAIL, "primary_address": True, "opt_out": False}],
        },
    )
    vtiger.add(
        "customers",
        {"firstname": "Ana", "lastname": "García", "email": EMAIL, "emailoptout": "0"},
    )
    with ExitStack() as stack:
        urls = {
            "sugar": stack.enter_context(running(sugar)),
            "vtiger": stack.enter_context(running(vtiger)),
        }
        yield sugar, vtiger, urls


def _config(
    tmp_path: Path, urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[HubConfig, Plugins]:
    for sandbox in (SugarSandbox(), VtigerSandbox()):
        for name, value in sandbox.environment().items():
            monkeypatch.setenv(name, value)
    (tmp_path / "crmhub.yaml").write_text(
        "connections:\n"
        f"  sugar:\n    connector: sugarcrm\n    direction: both\n    streams: [customers]\n"
        f"    config: {{base_url: '{urls['sugar']}', username: hub, "
        "password: '${SUGARCRM_SANDBOX_PASSWORD}'}\n"
        f"  vtiger:\n    connector: vtiger\n    direction: both\n    streams: [customers]\n"
        f"    config: {{base_url: '{urls['vtiger']}', username: admin, "
        "access_key: '${VTIGER_ACCESS_KEY}'}\n"
        "merge: {skew: 5m}\n"
    )
    plugins = load_plugins()
    return load_config(tmp_path / "crmhub.yaml", plugins), plugins


def _sugar_ana(sandbox: SugarSandbox) -> dict[str, object]:
    [ana] = [c for c in sandbox.records("customers").values() if c["email1"] == EMAIL]
    return ana


def _vtiger_ana(sandbox: VtigerSandbox) -> dict[str, object]:
    [ana] = [c for c in sandbox.records("customers").values() if c["email"] == EMAIL]
    return ana


def _values(tree: object) -> list[object]:
    """Every leaf of a JSON tree: where the conflict keeps each side's value is the engine's."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _values(value)]
    if isinstance(tree, list):
        return [leaf for value in tree for leaf in _values(value)]
    return [tree]


async def test_edits_to_different_fields_in_each_crm_reach_both(
    crms: tuple[SugarSandbox, VtigerSandbox, dict[str, str]],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sugar, vtiger, urls = crms
    config, plugins = _config(tmp_path, urls, monkeypatch)
    first = await sync(store, config, plugins)
    assert all(r.status == "succeeded" for r in first), [r.error for r in first]

    sugar.edit("customers", str(_sugar_ana(sugar)["id"]), first_name="Anna")
    vtiger.edit("customers", str(_vtiger_ana(vtiger)["id"]), mobile="+34600111222")
    second = await sync(store, config, plugins)

    assert all(r.status == "succeeded" for r in second), [r.error for r in second]
    assert (_sugar_ana(sugar)["first_name"], _sugar_ana(sugar)["phone_mobile"]) == (
        "Anna",
        "+34600111222",
    )
    assert (_vtiger_ana(vtiger)["firstname"], _vtiger_ana(vtiger)["mobile"]) == (
        "Anna",
        "+34600111222",
    )
    with store.session() as session:
        assert session.exec(select(Conflict)).all() == []


async def test_the_same_field_edited_in_both_within_the_skew_waits_for_review(
    crms: tuple[SugarSandbox, VtigerSandbox, dict[str, str]],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sugar, vtiger, urls = crms
    config, plugins = _config(tmp_path, urls, monkeypatch)
    await sync(store, config, plugins)

    sugar.edit("customers", str(_sugar_ana(sugar)["id"]), last_name="García López")
    vtiger.edit("customers", str(_vtiger_ana(vtiger)["id"]), lastname="García Pérez")
    await sync(store, config, plugins)

    with store.session() as session:
        conflicts = session.exec(select(Conflict).where(Conflict.field == "last_name")).all()
    assert len(conflicts) == 1 and conflicts[0].status == "open"
    assert {"García López", "García Pérez"} <= set(map(str, _values(conflicts[0].candidates)))
    # held for review: neither CRM's edit was overwritten with the other's
    assert _sugar_ana(sugar)["last_name"] == "García López"
    assert _vtiger_ana(vtiger)["lastname"] == "García Pérez"
    await sync(store, config, plugins)
    assert _sugar_ana(sugar)["last_name"] == "García López"
    assert _vtiger_ana(vtiger)["lastname"] == "García Pérez"

    with store.session() as session:
        resolve_conflict(session, conflicts[0].id or 0, take="vtiger", targets=["sugar", "vtiger"])
    runs = await sync(store, config, plugins)

    assert all(r.status == "succeeded" for r in runs), [r.error for r in runs]
    assert _sugar_ana(sugar)["last_name"] == "García Pérez"
    assert _vtiger_ana(vtiger)["lastname"] == "García Pérez"
