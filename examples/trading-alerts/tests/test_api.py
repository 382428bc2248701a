"""Each version's own behaviour, beyond the recipes: 404s, validation, deletion."""

from __future__ import annotations

import pytest
from alerts_app import V1, V2, document
from fastapi.testclient import TestClient


@pytest.mark.parametrize("prefix", [V1, V2])
def test_an_unknown_alert_is_a_404_naming_it(client: TestClient, prefix: str) -> None:
    response = client.get(f"{prefix}/alerts/41")
    assert response.status_code == 404
    assert response.json() == {"detail": "no alert has the id 41"}


def test_delete_answers_the_alert_one_last_time(client: TestClient) -> None:
    made = client.post(f"{V1}/alerts", json={"symbol": "aapl", "price": 3}).json()
    assert client.delete(f"{V2}/alerts/{made['id']}").json()["symbol"] == "AAPL"
    assert client.get(f"{V1}/alerts").json() == []


def test_listing_by_symbol_in_any_case(client: TestClient) -> None:
    client.post(f"{V1}/alerts", json={"symbol": "AAPL", "price": 3})
    client.post(f"{V1}/alerts", json={"symbol": "MSFT", "price": 3})
    assert [a["symbol"] for a in client.get(f"{V2}/alerts", params={"symbol": "msft"}).json()] == ["MSFT"]


def test_each_documents_example_creates_an_alert(client: TestClient) -> None:
    for prefix, version, schema in ((V1, "v1", "NewAlertV1"), (V2, "v2", "NewAlertV2")):
        example = document(version)["components"]["schemas"][schema]["examples"][0]
        assert client.post(f"{prefix}/alerts", json=example).status_code == 200


def test_v2_refuses_unknown_fields(client: TestClient) -> None:
    response = client.post(f"{V2}/alerts", json={"symbol": "AAPL", "threshold": 1, "direction": "above", "price": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "price"]
