"""``trading-host routes``: the table it prints, built from the plan and the modules' routers."""

from __future__ import annotations

from host_fakes import factory_for
from host_plugins import CoreApi
from test_included_routers import SplitApi

from trading_host import Installed
from trading_host._cli._routes import route_table


def test_routes_of_included_routers_are_listed_with_their_full_paths() -> None:
    factory = factory_for(Installed.from_apis([CoreApi, SplitApi]))
    plan = factory.plan(global_version="v1")
    assert plan.problems == []
    table = route_table(factory, plan)
    assert table["standalone"] is None
    rows = {(r["method"], r["path"]): (r["module"], r["version"], r["status"]) for r in table["global_versions"]["v1"]}
    split = ("split", "v1", "stable")
    assert rows[("GET", "/api/v1/split/desk/orders/{order_id}")] == split
    assert rows[("DELETE", "/api/v1/split/desk/orders/{order_id}")] == split
    assert rows[("WEBSOCKET", "/api/v1/split/desk/live")] == split
    assert rows[("GET", "/api/v1/split/ping")] == split
    assert rows[("GET", "/api/v1/docs")] == (None, None, None)
    assert not any(method == "HEAD" for method, _ in rows)


def test_a_standalone_service_lists_its_module_and_core() -> None:
    factory = factory_for(
        Installed.from_apis([CoreApi, SplitApi]), {"ENABLED_MODULES": "split", "MODULE_VERSION": "v1"}
    )
    plan = factory.plan()
    table = route_table(factory, plan)
    assert table["global_versions"] == {}
    paths = {(r["method"], r["path"]) for r in table["standalone"]}
    assert {("GET", "/v1/ping"), ("GET", "/v1/docs"), ("WEBSOCKET", "/v1/desk/live")} <= paths
    assert any(path.startswith("/core/v1/") for _, path in paths)
