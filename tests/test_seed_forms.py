"""The seed's own forms keep working: GLOBAL_VERSION, standalone services, AppFactory.create_app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_plugins import plugin
from fastapi.testclient import TestClient
from harness import BIN, Serve, clean_env, with_pythonpath
from openapi_spec_validator import validate

from trading_host import AppFactory, ConfigError

UVICORN = str(BIN / "uvicorn")


def test_global_version_env_serves_only_that_version(serve: Serve) -> None:
    server = serve(
        [UVICORN, "trading_host.main:app", "--port", "{port}"],
        env=clean_env(GLOBAL_VERSION="v2"),
        ready_path="/api/v2/core/health",
    )
    assert server.get("/api/v2/core/health").status_code == 200
    response = server.get("/api/v1/core/health")
    assert response.status_code == 404
    assert list(response.json()["served"]["global_versions"]) == ["v2"]


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_standalone_broker_v1_service(serve: Serve) -> None:
    server = serve(
        [UVICORN, "trading_host.main:app", "--port", "{port}"],
        env=clean_env(ENABLED_MODULES="broker", MODULE_VERSION="v1"),
        ready_path="/core/v1/health",
    )
    placed = server.post("/v1/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"})
    assert placed.status_code == 200, placed.text
    order_id = placed.json()["id"]
    assert server.get(f"/v1/orders/{order_id}").json()["id"] == order_id
    assert server.get("/api/v1/broker/orders").status_code == 404
    not_served = server.get("/v2/orders")
    assert not_served.status_code == 404
    assert not_served.json()["served"] == {"standalone": {"broker": "v1", "core": "v1"}}
    spec = server.get("/v1/openapi.json").json()
    validate(spec)
    assert "/orders" in spec["paths"]
    assert server.get("/v1/docs").status_code == 200


@pytest.mark.independent
def test_standalone_third_party_module(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "gadget", ["v1", "v2"])
    server = serve(
        [UVICORN, "trading_host.main:app", "--port", "{port}"],
        env=with_pythonpath(site, ENABLED_MODULES="gadget", MODULE_VERSION="v2"),
        ready_path="/core/v1/health",
    )
    assert server.get("/v2/ping").json()["version"] == "v2"
    assert server.get("/v1/ping").status_code == 404


@pytest.mark.independent
def test_standalone_needs_exactly_one_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    plugin(site, "gadget", ["v1"])
    plugin(site, "widget", ["v1"])
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)
    factory = AppFactory(environ={})
    with pytest.raises(ConfigError) as caught:
        factory.create_app(enabled_module_names=["gadget", "widget"], module_version="v1")
    assert [p.code for p in caught.value.problems] == ["standalone-needs-one-module"]


@pytest.mark.independent
def test_app_factory_create_app_as_in_the_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    enabled = ["core"]
    app = AppFactory(environ={}).create_app(enabled_module_names=enabled, global_version="v1")
    assert enabled == ["core"]  # the caller's list is not changed
    with TestClient(app) as client:
        assert client.get("/api/v1/core/health").status_code == 200
        assert client.get("/api/v2/core/health").status_code == 404


@pytest.mark.modules("broker", "datafeed")
@pytest.mark.independent
def test_app_factory_module_versions_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = AppFactory(environ={}).create_app(
        enabled_module_names=["broker"], global_version="v1", module_versions={"broker": "v2"}
    )
    with TestClient(app) as client:
        assert client.post("/api/v1/broker/orders", json={"symbol": "AAPL", "quantity": 100}).status_code == 422
        assert client.get("/api/v1/datafeed/config").status_code == 404  # not enabled
    with pytest.raises(ConfigError) as caught:
        AppFactory(environ={}).create_app(global_version="v1", module_versions={"broker": "v9"})
    assert [p.code for p in caught.value.problems] == ["version-not-installed"]
    assert "pip install 'trading-broker==9.*'" in caught.value.problems[0].fix


@pytest.mark.independent
def test_unknown_global_version_never_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        AppFactory(environ={}).create_app(global_version="v3")
    assert [p.code for p in caught.value.problems] == ["unknown-global-version"]
    assert "v1, v2" in caught.value.problems[0].message
