"""The broker as a plugin: settings, entry points, the lifespan (database, matcher), health."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from pydantic import ValidationError

from trading_broker import BrokerModule, BrokerSettings, OrderRequest, OrderStatus, OrderType, __version__
from trading_broker.api import v1, v2
from trading_core import ENTRY_POINT_GROUP, ModuleContext, check_api_class

pytestmark = pytest.mark.anyio


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
    defaults = BrokerSettings()
    assert defaults.default_account == "default"
    assert defaults.database_url == "sqlite+aiosqlite:///./trading-broker.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "database 'mysql' is not supported"),
        ("postgresql+psycopg2://u@h/db", "write 'postgresql+asyncpg://...'"),
        ("sqlite+aiosqlite://", "in-memory SQLite database"),
        ("sqlite+aiosqlite:///:memory:", "in-memory SQLite database"),
        ("not a url", "is not a database URL"),
    ],
)
def test_a_database_url_the_broker_cannot_use_is_refused_with_the_fix(url, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        BrokerSettings.model_validate({"database_url": url})


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "postgresql://u@h:5432/db", "postgres://u@h/db", "postgresql+asyncpg://u@h/db"]
)
def test_urls_without_the_async_driver_get_it(url):
    assert BrokerSettings.model_validate({"database_url": url}).database_url == url


def test_environment_strings_are_accepted():
    # The host passes TRADING_MODULES__BROKER__* values as strings.
    settings = BrokerSettings.model_validate({"match_interval": "0.5", "initial_balance": "2500"})
    assert (settings.match_interval, settings.initial_balance) == (0.5, 2500.0)
    with pytest.raises(ValidationError, match="greater than 0"):
        BrokerSettings.model_validate({"match_interval": "0"})


def test_both_versions_share_one_service(sqlite_url):
    module = BrokerModule(ModuleContext(settings={"default_account": "desk", "database_url": sqlite_url}))
    assert v1.BrokerApi(module).module_instance is v2.BrokerApi(module).module_instance is module
    assert module.default_account == "desk"


def test_the_module_is_generic_in_its_settings_and_takes_them_validated(sqlite_url):
    assert BrokerModule.Settings is BrokerSettings  # derived from Module[BrokerSettings]
    # The host validates [modules.broker] once and passes the object, which the module keeps as is.
    settings = BrokerSettings(default_account="desk", database_url=sqlite_url)
    module = BrokerModule(ModuleContext(settings=settings))
    assert module.settings is settings
    assert module.default_account == "desk"


async def test_building_the_module_touches_no_database(tmp_path):
    BrokerModule(ModuleContext(settings={"database_url": f"sqlite:///{tmp_path / 'never.db'}"}))
    assert list(tmp_path.iterdir()) == []


async def test_lifespan_opens_the_database_runs_the_matcher_and_leaves_no_task(sqlite_url, tape):
    module = BrokerModule(ModuleContext(settings={"database_url": sqlite_url, "match_interval": 0.01}), prices=tape)
    before = asyncio.all_tasks()
    async with module.lifespan():
        report = await module.health()
        assert (report["status"], report["orders"], report["database"], report["matcher"]) == ("ok", 0, "sqlite", True)
        service = module.service
        working = (
            await service.place("acc", OrderRequest("AAPL", 1, order_type=OrderType.LIMIT, limit_price=99.0))
        ).order
        tape.prices["AAPL"] = 98.0
        for _ in range(200):  # the background check fills it without anyone asking
            if (await service.get("acc", working.id)).status is OrderStatus.FILLED:
                break
            await asyncio.sleep(0.01)
        assert (await service.get("acc", working.id)).status is OrderStatus.FILLED
    assert not module.matcher.running
    assert asyncio.all_tasks() == before
    with pytest.raises(RuntimeError, match="not open"):
        await module.service.get("acc", working.id)


async def test_a_failing_check_is_reported_and_retried(sqlite_url, tape):
    module = BrokerModule(ModuleContext(settings={"database_url": sqlite_url, "match_interval": 0.01}), prices=tape)
    async with module.lifespan():
        real = module.service.check_working_orders
        failures = 0

        async def flaky() -> int:
            nonlocal failures
            if failures < 3:
                failures += 1
                raise ConnectionError("database went away")
            return await real()

        module.service.check_working_orders = flaky  # type: ignore[method-assign]
        for _ in range(100):
            if module.matcher.last_error:
                break
            await asyncio.sleep(0.01)
        first_error = module.matcher.last_error
        assert first_error == "ConnectionError: database went away"
        report = await module.health()
        # /health is public: the error's kind, not its words (which may be the driver's).
        assert (report["status"], report["matcher_error"]) == ("degraded", "ConnectionError; see the server log")
        for _ in range(200):
            if failures == 3 and module.matcher.last_error is None:
                break
            await asyncio.sleep(0.01)
        assert module.matcher.last_error is None
        assert module.matcher.running
        assert (await module.health())["status"] == "ok"


@pytest.mark.needs_host  # the command runs inside trading-host, as in test_cli
def test_python_dash_m_runs_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "trading_broker", "keys", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "create" in result.stdout
    assert "revoke" in result.stdout


def test_a_sqlite_file_in_a_missing_folder_is_a_settings_problem_naming_the_path_and_setting(tmp_path):
    # The configuration check runs the settings' validation: the problem is reported before serving.
    folder = tmp_path / "no-such-folder"
    with pytest.raises(ValidationError) as refused:
        BrokerSettings.model_validate({"database_url": f"sqlite+aiosqlite:///{folder}/broker.db"})
    (error,) = refused.value.errors()
    assert error["type"] == "database_unusable"
    assert (
        f"the SQLite database {folder / 'broker.db'} cannot be created: the folder {folder} does not exist"
        in error["msg"]
    )
    assert "database_url" in error["ctx"]["fix"]
