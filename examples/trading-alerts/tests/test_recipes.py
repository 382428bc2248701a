"""The cookbook's recipes, one test each: v2 makes one breaking change of each kind, and a v1
client, sending and reading exactly what it always did, still works, on the same alerts as v2's
clients (one service behind both versions)."""

from __future__ import annotations

from alerts_app import V1, V2, document
from fastapi.testclient import TestClient


def ok(response: object) -> object:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response.json()


# --8<-- [start:test-rename]
def test_recipe_1_rename_a_field(client: TestClient) -> None:
    made_by_v1 = client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200}).json()
    made_by_v2 = client.post(f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "above"}).json()

    assert made_by_v1["price"] == 200  # v1 clients send and read `price`
    assert client.get(f"{V2}/alerts/{made_by_v1['id']}").json()["threshold"] == 200
    assert client.get(f"{V1}/alerts/{made_by_v2['id']}").json()["price"] == 400
    assert "threshold" not in client.get(f"{V1}/alerts/{made_by_v2['id']}").json()


# --8<-- [end:test-rename]


# --8<-- [start:test-required]
def test_recipe_2_add_a_required_field(client: TestClient) -> None:
    made_by_v1 = client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200})  # no direction, as ever
    missing = client.post(f"{V2}/alerts", json={"symbol": "AAPL", "threshold": 200})

    assert made_by_v1.status_code == 200
    assert client.get(f"{V2}/alerts/{made_by_v1.json()['id']}").json()["direction"] == "above"
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "direction"]


# --8<-- [end:test-required]


# --8<-- [start:test-type]
def test_recipe_3_change_a_type(client: TestClient) -> None:
    made_by_v1 = client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200, "tags": "earnings, tech"}).json()
    made_by_v2 = client.post(
        f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "below", "tags": ["cloud", "ai"]}
    ).json()
    old_type_to_v2 = client.post(
        f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "below", "tags": "cloud,ai"}
    )

    assert made_by_v1["tags"] == "earnings,tech"
    assert client.get(f"{V2}/alerts/{made_by_v1['id']}").json()["tags"] == ["earnings", "tech"]
    assert client.get(f"{V1}/alerts/{made_by_v2['id']}").json()["tags"] == "cloud,ai"
    assert old_type_to_v2.status_code == 422


# --8<-- [end:test-type]


# --8<-- [start:test-split]
def test_recipe_4_split_an_endpoint(client: TestClient) -> None:
    alert = client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200}).json()
    toggle = f"{V1}/alerts/{alert['id']}/toggle"

    assert client.post(toggle).json()["enabled"] is False
    assert client.get(f"{V2}/alerts/{alert['id']}").json()["enabled"] is False
    assert client.post(f"{V2}/alerts/{alert['id']}/enable").json()["enabled"] is True
    assert client.post(toggle).json()["enabled"] is False  # v1's toggle sees what v2 did
    assert client.post(f"{V2}/alerts/{alert['id']}/disable").json()["enabled"] is False
    assert client.post(toggle).json()["enabled"] is True
    assert client.post(f"{V2}/alerts/{alert['id']}/toggle").status_code == 404


# --8<-- [end:test-split]


# --8<-- [start:test-remove]
def test_recipe_5_remove_an_endpoint(client: TestClient) -> None:
    client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 200})
    client.post(f"{V2}/alerts", json={"symbol": "MSFT", "threshold": 400, "direction": "above"})
    removed = client.get(f"{V2}/alerts/count")

    assert client.get(f"{V1}/alerts/count").json() == {"count": 2}
    assert removed.status_code == 404
    assert removed.json()["detail"] == "GET /alerts/count was removed in v2: count the alerts GET /alerts lists"
    assert len(client.get(f"{V2}/alerts").json()) == 2
    assert "/alerts/count" in document("v1")["paths"]
    assert "/alerts/count" not in document("v2")["paths"]


# --8<-- [end:test-remove]
