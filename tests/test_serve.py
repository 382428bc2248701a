"""The README's first command: the composed API, global v1 and v2 side by side, on a real uvicorn."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib import metadata

import pytest
from harness import BIN, INSTALLED, Serve, Server, run_cli, start_server
from openapi_spec_validator import validate

EXPECTED = set(os.environ.get("TRADING_EXPECT_MODULES", ",".join(sorted(INSTALLED))).split(","))


COMMAND = [str(BIN / "trading-host"), "serve", "--port", "{port}"]
# The tests share one server (they only read from it, but for an order placed): one process runs them.
pytestmark = pytest.mark.xdist_group("serve")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(COMMAND, cwd=tmp_path_factory.mktemp("serve"))
    yield server
    server.stop()


def test_both_global_versions_are_served_side_by_side(server: Server) -> None:
    for global_version in ("v1", "v2"):
        response = server.get(f"/api/{global_version}/core/health")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert set(response.json()["modules"]) == EXPECTED - {"core"}


def test_core_versions_lists_every_mounted_module_version(server: Server) -> None:
    versions = server.get("/api/v1/core/versions").json()
    assert server.get("/api/v2/core/versions").json() == versions
    by_key = {(v["module"], v["version"]): v for v in versions}
    assert {m for m, _ in by_key} == EXPECTED
    core = by_key[("core", "v1")]
    assert core["distribution"] == "trading-core"
    assert core["distribution_version"] == metadata.version("trading-core")
    assert core["global_versions"] == ["v1", "v2"]
    # The shipped config deprecates broker v1 (tests/test_lifecycle.py checks it at a fixed clock).
    assert all(v["status"] == "stable" for key, v in by_key.items() if key != ("broker", "v1"))
    if "broker" in EXPECTED:
        assert by_key[("broker", "v1")]["global_versions"] == ["v1"]
        assert by_key[("broker", "v2")]["global_versions"] == ["v2"]
        assert by_key[("broker", "v2")]["distribution"] == "trading-broker"
    if "datafeed" in EXPECTED:
        assert by_key[("datafeed", "v1")]["global_versions"] == ["v1", "v2"]


def test_version_not_served_is_a_404_listing_what_is(server: Server) -> None:
    response = server.get("/api/v3/broker/orders")
    assert response.status_code == 404
    body = response.json()
    assert "/api/v3/broker/orders" in body["detail"]
    served = body["served"]["global_versions"]
    assert set(served) == {"v1", "v2"}
    assert served["v1"]["core"] == "v1"
    assert set(served["v2"]) == EXPECTED
    missing_module = server.get("/api/v1/nosuchmodule/things")
    assert missing_module.status_code == 404
    assert missing_module.json()["served"] == body["served"]


def test_unknown_path_inside_a_module_is_a_plain_404(server: Server) -> None:
    response = server.get("/api/v1/core/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_swagger_docs_and_openapi_per_global_version(server: Server) -> None:
    for global_version in ("v1", "v2"):
        docs = server.get(f"/api/{global_version}/docs")
        assert docs.status_code == 200
        assert f"/api/{global_version}/openapi.json" in docs.text
        assert server.get(f"/api/{global_version}/redoc").status_code == 200
        spec = server.get(f"/api/{global_version}/openapi.json").json()
        validate(spec)
        assert spec["info"]["version"] == global_version
        assert f"/api/{global_version}/core/health" in spec["paths"]
        modules = {path.split("/")[3] for path in spec["paths"]}
        assert modules == EXPECTED


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_seed_order_examples_on_v1_and_v2(server: Server) -> None:
    placed = server.post("/api/v1/broker/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"})
    assert placed.status_code == 200, placed.text
    missing_auth = server.post("/api/v2/broker/orders", json={"symbol": "AAPL", "quantity": 100})
    assert missing_auth.status_code == 422
    # The contract's 422 (a missing parameter) says what to send.
    (error,) = missing_auth.json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["header", "authorization"])
    assert error["msg"].startswith("Field required: send 'Authorization: Bearer <token>'")
    assert "trading-host broker keys create <account>" in error["msg"]
    bad_token = server.post(
        "/api/v2/broker/orders", json={"symbol": "AAPL", "quantity": 100}, headers={"Authorization": "Bearer nope"}
    )
    assert bad_token.status_code == 401


@pytest.mark.modules("datafeed")
@pytest.mark.independent
def test_datafeed_is_the_same_v1_in_both_global_versions(server: Server) -> None:
    v1 = server.get("/api/v1/datafeed/config")
    v2 = server.get("/api/v2/datafeed/config")
    assert v1.status_code == 200
    assert v1.json() == v2.json()
    assert "supported_resolutions" in v1.json()
    symbols = server.get("/api/v1/datafeed/symbols", params={"symbol": "AAPL"})
    assert symbols.status_code == 200
    assert "s" not in symbols.json()
    assert symbols.json()["ticker"]


def test_routes_lists_what_the_server_serves(server: Server) -> None:
    # `trading-host routes` from the server's own folder and environment: the same configuration.
    result = run_cli("routes", "--json", cwd=server.log.parent)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["global_versions"]
    assert set(listed) == {"v1", "v2"}
    for global_version, rows in listed.items():
        spec = server.get(f"/api/{global_version}/openapi.json").json()
        documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
        http = {(r["method"], r["path"]) for r in rows if r["module"] is not None and r["method"] != "WEBSOCKET"}
        assert {(m, p) for m, p in http if not p.endswith("/asyncapi.json")} == documented
        for row in rows:
            # Every GET route listed is served (a 422 for a missing parameter or credentials is not a 404).
            if row["method"] == "GET" and "{" not in row["path"]:
                assert server.get(row["path"]).status_code != 404, row


def test_server_shuts_down_cleanly(serve: Serve) -> None:
    server = serve(COMMAND)
    output = server.stop()
    # uvicorn shuts down gracefully on SIGTERM, then exits by the same signal so supervisors see why.
    assert server.process.returncode in (0, -15)
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


@pytest.mark.independent
def test_a_server_is_not_ready_while_another_answers_on_its_port(
    server: Server, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness's own guard. The port found free is taken by another server before the new one
    binds it (here: the shared server's port is offered first). The new server starts its
    application, about a second (plain uvicorn: no check of the port before), then fails to bind;
    the other server answers meanwhile, which must not pass for the new one being ready: the new one
    is started again on another port, and that one is returned."""
    import harness

    original = harness.free_port
    offered = iter([server.port])
    monkeypatch.setattr(harness, "free_port", lambda: next(offered, None) or original())
    second = harness.start_server(
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"], cwd=tmp_path_factory.mktemp("second")
    )
    try:
        assert second.port != server.port
        assert second.get("/api/v1/core/health").status_code == 200
    finally:
        second.stop()
