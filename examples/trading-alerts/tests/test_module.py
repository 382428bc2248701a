"""The module's settings and lifespan: alerts kept in a file between runs, a clear error when the
file cannot be read, the limit of alerts."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
from alerts_app import V1, V2, serve
from pydantic import ValidationError

from trading_alerts import AlertsModule, AlertsSettings
from trading_core import Module, ModuleContext, ModuleStartupError


def test_the_alerts_outlive_a_restart_with_a_data_file(tmp_path: Path) -> None:
    settings = {"data_file": str(tmp_path / "alerts.json")}
    with serve(settings) as client:
        client.post(f"{V2}/alerts", json={"symbol": "AAPL", "threshold": 200, "direction": "below", "tags": ["a"]})
    with serve(settings) as client:
        again = client.get(f"{V2}/alerts").json()
        made = client.post(f"{V1}/alerts", json={"symbol": "MSFT", "price": 1}).json()

    assert [(a["id"], a["symbol"], a["direction"], a["tags"]) for a in again] == [(1, "AAPL", "below", ["a"])]
    assert made["id"] == 2


def test_an_unreadable_data_file_stops_the_start_with_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.json"
    broken.write_text("{not json")
    module = AlertsModule(ModuleContext(settings={"data_file": str(broken)}))

    async def start() -> None:
        async with module.lifespan():
            pass

    with pytest.raises(ModuleStartupError) as raised:
        asyncio.run(start())
    assert str(broken) in raised.value.message
    assert "data_file" in raised.value.fix


def test_the_limit_of_alerts_is_a_setting() -> None:
    with serve({"max_alerts": 1}) as client:
        client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 1})
        refused = client.post(f"{V2}/alerts", json={"symbol": "AAPL", "threshold": 1, "direction": "above"})
    assert refused.status_code == 409
    assert "max_alerts" in refused.json()["detail"]
    with pytest.raises(ValidationError, match="max_alert"):
        AlertsSettings.model_validate({"max_alert": 1})  # a misspelt key is refused


def test_the_lifespan_is_an_async_context_manager() -> None:
    # What the host needs of an override: `async with module.lifespan():`, as Module's own.
    module = AlertsModule()
    assert not inspect.isasyncgenfunction(AlertsModule.lifespan)
    assert hasattr(module.lifespan(), "__aenter__")
    assert "asynccontextmanager" in (Module.lifespan.__doc__ or "")
