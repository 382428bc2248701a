"""The breaking-changes cookbook, end to end: the wheel of examples/trading-alerts (built by
``nox -s wheels``), installed next to the host, served by ``trading-host serve`` with alerts v1 in
global v1 and v2 in global v2. A v1 client, sending and reading exactly what it did before v2
existed, still works for each recipe, over HTTP and its WebSocket, on the same alerts as v2's
clients."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from harness import BIN, Serve, with_pythonpath
from websockets.sync.client import connect

pytestmark = [pytest.mark.independent]

DIST = Path(__file__).resolve().parents[1] / "dist"
V1 = "/api/v1/alerts"
V2 = "/api/v2/alerts"


def install_alerts(site: Path) -> Path:
    """The trading-alerts wheel unpacked into ``site``, a folder for PYTHONPATH: what installing a
    pure-Python wheel does (its package and its .dist-info with the entry points)."""
    wheels = sorted(DIST.glob("trading_alerts-*.whl"))
    assert len(wheels) == 1, f"expected one trading-alerts wheel in {DIST}, found {wheels}: run `nox -s wheels`"
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(site)
    return site


def test_v1_clients_still_work_after_each_breaking_change_of_v2(serve: Serve, tmp_path: Path) -> None:
    env = with_pythonpath(install_alerts(tmp_path / "site"))
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}", "--enable", "alerts"], env=env)
    ws_url = server.base_url.replace("http", "ws", 1) + f"{V1}/ws"

    with connect(ws_url, open_timeout=10) as stream:
        stream.send(json.dumps({"type": "alerts.subscribe", "id": 1, "payload": {"symbol": "msft"}}))
        assert json.loads(stream.recv(timeout=10))["type"] == "alerts.subscribe.response"

        # Recipes 1-3: v1 creates with `price`, no `direction` and a string of tags; v2 reads them new.
        made_by_v1 = server.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200, "tags": "earnings, tech"})
        made_by_v2 = server.post(
            f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "below", "tags": ["cloud"]}
        )
        update = json.loads(stream.recv(timeout=10))  # v2's alert, in v1's shape, on v1's stream

    assert made_by_v1.status_code == 200, made_by_v1.text
    assert made_by_v2.status_code == 200, made_by_v2.text
    old, new = made_by_v1.json(), made_by_v2.json()
    assert old == {"id": old["id"], "symbol": "AAPL", "price": 200.0, "tags": "earnings,tech", "enabled": True}
    assert server.get(f"{V2}/alerts/{old['id']}").json() == {
        "id": old["id"],
        "symbol": "AAPL",
        "threshold": 200.0,
        "direction": "above",
        "tags": ["earnings", "tech"],
        "enabled": True,
    }
    v1_view = {"id": new["id"], "symbol": "MSFT", "price": 400.0, "tags": "cloud", "enabled": True}
    assert server.get(f"{V1}/alerts/{new['id']}").json() == v1_view
    assert update["payload"] == {"event": "created", "alert": v1_view}

    # Recipe 4: v1's toggle, v2's enable and disable, on one alert.
    assert server.post(f"{V1}/alerts/{old['id']}/toggle").json()["enabled"] is False
    assert server.post(f"{V2}/alerts/{old['id']}/enable").json()["enabled"] is True
    assert server.post(f"{V1}/alerts/{old['id']}/toggle").json()["enabled"] is False

    # Recipe 5: v1's count stays; v2's is gone, with a 404 that says what to do.
    assert server.get(f"{V1}/alerts/count").json() == {"count": 2}
    removed = server.get(f"{V2}/alerts/count")
    assert removed.status_code == 404
    assert "count the alerts GET /alerts lists" in removed.json()["detail"]

    # Each global version serves its own alerts version, and its document says so.
    versions = {(v["module"], v["version"]): v for v in server.get("/api/v1/core/versions").json()}
    assert versions[("alerts", "v1")]["global_versions"] == ["v1"]
    assert versions[("alerts", "v2")]["global_versions"] == ["v2"]
    assert versions[("alerts", "v2")]["distribution"] == "trading-alerts"
    assert f"{V1}/alerts/count" in server.get("/api/v1/openapi.json").json()["paths"]
    assert f"{V2}/alerts/count" not in server.get("/api/v2/openapi.json").json()["paths"]
