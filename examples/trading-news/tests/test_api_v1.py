"""News API v1 in a plain FastAPI app, the way the host serves it under /api/{global}/news."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from trading_core import ModuleContext
from trading_news import NewsModule
from trading_news.api.v1 import NewsApi


def _client(settings: dict[str, Any] | None = None) -> TestClient:
    module = NewsModule(ModuleContext(settings=settings or {}))
    app = FastAPI()
    app.include_router(NewsApi(module))
    return TestClient(app)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with _client() as test_client:
        yield test_client


def test_list_headlines_newest_first(client: TestClient) -> None:
    response = client.get("/headlines")
    assert response.status_code == 200
    body = response.json()
    assert [h["id"] for h in body] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert body[0] == {
        "id": 8,
        "symbol": "AAPL",
        "title": "Apple suppliers report strong orders",
        "published_at": "2024-05-10T06:10:00Z",
    }


def test_list_is_the_same_every_time(client: TestClient) -> None:
    assert client.get("/headlines").json() == client.get("/headlines").json()


@pytest.mark.parametrize("symbol", ["AAPL", "aapl", "AaPl"])
def test_filter_by_symbol_in_any_case(client: TestClient, symbol: str) -> None:
    response = client.get("/headlines", params={"symbol": symbol})
    assert response.status_code == 200
    assert [(h["id"], h["symbol"]) for h in response.json()] == [(8, "AAPL"), (3, "AAPL"), (1, "AAPL")]


def test_unknown_symbol_has_no_headlines(client: TestClient) -> None:
    response = client.get("/headlines", params={"symbol": "NOPE"})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("symbol", ["", "A" * 33, "AAPL;DROP", "a b"])
def test_malformed_symbol_is_rejected(client: TestClient, symbol: str) -> None:
    response = client.get("/headlines", params={"symbol": symbol})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "symbol"]


def test_max_results_setting_limits_listings() -> None:
    with _client({"max_results": 2}) as limited:
        assert [h["id"] for h in limited.get("/headlines").json()] == [8, 7]
        assert [h["id"] for h in limited.get("/headlines", params={"symbol": "MSFT"}).json()] == [6, 2]


def test_get_headline(client: TestClient) -> None:
    response = client.get("/headlines/4")
    assert response.status_code == 200
    assert response.json() == {
        "id": 4,
        "symbol": "TSLA",
        "title": "Tesla deliveries fall short of estimates",
        "published_at": "2024-05-06T12:00:00Z",
    }


@pytest.mark.parametrize("headline_id", ["99", "9"])
def test_unknown_headline_is_404(client: TestClient, headline_id: str) -> None:
    response = client.get(f"/headlines/{headline_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"headline {headline_id} not found"}


@pytest.mark.parametrize("headline_id", ["abc", "0", "-1", "1.5"])
def test_malformed_headline_id_is_422(client: TestClient, headline_id: str) -> None:
    response = client.get(f"/headlines/{headline_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "headline_id"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"max_result": 5}, "max_result"), ({"max_results": 0}, "max_results"), ({"max_results": "x"}, "max_results")],
)
def test_bad_settings_are_refused(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        NewsModule(ModuleContext(settings=settings))
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


def test_health_counts_headlines() -> None:
    assert asyncio.run(NewsModule().health()) == {"status": "ok", "headlines": 8}


def test_openapi_documents_the_404_and_operation_ids() -> None:
    app = FastAPI()
    app.include_router(NewsApi(NewsModule()))
    paths = app.openapi()["paths"]
    assert paths["/headlines"]["get"]["operationId"] == "listHeadlines"
    get_one = paths["/headlines/{headline_id}"]["get"]
    assert get_one["operationId"] == "getHeadline"
    assert get_one["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotFound"
    }
    assert get_one["tags"] == ["news"]
