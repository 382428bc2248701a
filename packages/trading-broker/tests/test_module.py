"""The broker as a plugin: settings, health, lifespan, entry points."""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points

import pytest
from pydantic import ValidationError

from trading_broker import BrokerModule, BrokerSettings, __version__
from trading_broker.__main__ import main as cli
from trading_broker.api import v1, v2
from trading_core import ENTRY_POINT_GROUP, ModuleContext, check_api_class


def test_entry_points_name_each_version_class():
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name.startswith("broker.")}
    assert set(found) == {"broker.v1", "broker.v2"}
    assert found["broker.v1"].load() is v1.BrokerApi
    assert found["broker.v2"].load() is v2.BrokerApi
    assert check_api_class(v1.BrokerApi, "broker", "v1") == []
    assert check_api_class(v2.BrokerApi, "broker", "v2") == []
    assert v1.BrokerApi.module is v2.BrokerApi.module is BrokerModule
    assert __version__.startswith("2.")


def test_settings_forbid_unknown_keys_and_plain_tokens():
    with pytest.raises(ValidationError, match="extra"):
        BrokerSettings.model_validate({"default_acount": "x"})
    with pytest.raises(ValidationError, match="sha256"):
        BrokerSettings.model_validate({"api_keys": [{"account": "a", "sha256": "not-a-hash"}]})
    with pytest.raises(ValidationError):
        BrokerSettings.model_validate({"api_keys": [{"account": "a", "token": "plain"}]})
    assert BrokerSettings().default_account == "default"


def test_both_versions_share_one_service():
    module = BrokerModule(ModuleContext(settings={"default_account": "desk"}))
    assert v1.BrokerApi(module).module_instance is v2.BrokerApi(module).module_instance is module
    assert module.default_account == "desk"


def test_health_and_lifespan():
    async def scenario():
        module = BrokerModule()
        async with module.lifespan():
            return await module.health()

    report = asyncio.run(scenario())
    assert report["status"] == "ok"
    assert report["orders"] == 0


def test_new_key_cli_prints_a_token_and_its_hash(capsys):
    assert cli(["new-key", "alice"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[0].rsplit(" ", 1)[1]
    digest = out.split('sha256 = "')[1].split('"')[0]
    settings = BrokerSettings.model_validate({"api_keys": [{"account": "alice", "sha256": digest}]})
    assert BrokerModule(ModuleContext(settings=settings.model_dump())).service.authenticate(token) == "alice"
    assert cli(["new-key"]) == 2
