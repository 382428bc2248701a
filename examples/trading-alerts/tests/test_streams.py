"""Each version streams the alerts' events in its own shape, from the one service."""

from __future__ import annotations

from alerts_app import V1, V2
from fastapi.testclient import TestClient


def test_each_version_streams_the_same_event_in_its_own_shape(client: TestClient) -> None:
    with client.websocket_connect(f"{V1}/ws") as old, client.websocket_connect(f"{V2}/ws") as new:
        old.send_json({"type": "alerts.subscribe", "id": 1, "payload": {"symbol": "aapl"}})
        new.send_json({"type": "alerts.subscribe", "id": 1, "payload": {}})
        assert old.receive_json()["type"] == "alerts.subscribe.response"
        assert new.receive_json()["type"] == "alerts.subscribe.response"

        client.post(f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "below"})
        client.post(f"{V2}/alerts", json={"symbol": "AAPL", "threshold": 200, "direction": "above", "tags": ["x"]})

        first, second = new.receive_json(), new.receive_json()
        only_aapl = old.receive_json()

    assert first["payload"]["alert"]["symbol"] == "MSFT"
    assert second["type"] == "alerts.update"
    assert second["payload"] == {
        "event": "created",
        "alert": {"id": 2, "symbol": "AAPL", "threshold": 200.0, "direction": "above", "tags": ["x"], "enabled": True},
    }
    assert only_aapl["payload"] == {
        "event": "created",
        "alert": {"id": 2, "symbol": "AAPL", "price": 200.0, "tags": "x", "enabled": True},
    }


def test_a_blank_symbol_is_refused(client: TestClient) -> None:
    with client.websocket_connect(f"{V2}/ws") as ws:
        ws.send_json({"type": "alerts.subscribe", "id": 7, "payload": {"symbol": "  "}})
        error = ws.receive_json()
    assert error["type"] == "error"
    assert error["payload"]["code"] == "invalid-params"
    assert "give a symbol" in error["payload"]["message"]
