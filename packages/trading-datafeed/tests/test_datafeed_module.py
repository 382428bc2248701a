"""The datafeed as a plugin: entry point, settings, health, lifespan."""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points
from typing import Any

from trading_core import ENTRY_POINT_GROUP, ModuleContext, check_api_class
from trading_datafeed import DatafeedModule, DatafeedSettings, __version__
from trading_datafeed.api import v1


def test_entry_point_names_the_v1_class():
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name.startswith("datafeed.")}
    assert set(found) == {"datafeed.v1"}
    assert found["datafeed.v1"].load() is v1.DatafeedApi
    assert check_api_class(v1.DatafeedApi, "datafeed", "v1") == []
    assert __version__.startswith("1.")


def test_the_module_is_generic_in_its_settings_and_takes_them_validated():
    assert DatafeedModule.Settings is DatafeedSettings  # derived from Module[DatafeedSettings]
    # The host validates [modules.datafeed] once and passes the object, which the module keeps as is.
    settings = DatafeedSettings(max_bars=7)
    module = DatafeedModule(ModuleContext(settings=settings))
    assert module.settings is settings
    assert module.service.max_bars == 7


def test_health_reports_the_source():
    report = asyncio.run(DatafeedModule().health())
    streams = {"connections": 0, "feeds": 0}
    assert report == {"status": "ok", "source": "simulated", "symbols": 12, "streams": streams, "computing": 0}


def test_csv_files_are_read_in_the_lifespan(tmp_path):
    (tmp_path / "ONE.csv").write_text("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n")
    module = DatafeedModule(ModuleContext(settings={"csv_dir": str(tmp_path)}))

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        before = await module.health()
        async with module.lifespan():
            during = await module.health()
        return before, during

    before, during = asyncio.run(scenario())
    streams = {"connections": 0, "feeds": 0}
    assert before == {"status": "degraded", "source": "csv", "symbols": 0, "streams": streams, "computing": 0}
    assert during == {"status": "ok", "source": "csv", "symbols": 1, "streams": streams, "computing": 0}
