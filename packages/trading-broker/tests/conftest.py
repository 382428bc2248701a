"""Fixtures: one broker module (frozen clock) served as v1 and v2 by a plain FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trading_broker import BrokerModule, hash_api_key
from trading_broker.api.v1 import BrokerApi as BrokerApiV1
from trading_broker.api.v2 import BrokerApi as BrokerApiV2
from trading_core import ModuleContext

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
DEFAULT_TOKEN = "test_token"
ALICE_TOKEN = "alice-secret-token"
V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
SETTINGS = {
    "default_account": "default",
    "api_keys": [
        {"account": "default", "sha256": hash_api_key(DEFAULT_TOKEN)},
        {"account": "alice", "sha256": hash_api_key(ALICE_TOKEN)},
    ],
}


@pytest.fixture
def now() -> datetime:
    """The frozen time of the module's clock."""
    return NOW


@pytest.fixture
def module() -> BrokerModule:
    return BrokerModule(ModuleContext(settings=SETTINGS), clock=lambda: NOW)


@pytest.fixture
def last(module: BrokerModule):
    """The simulated last price of a symbol at the frozen time."""

    def price(symbol: str) -> float:
        value = module.service.prices.last_price(symbol, NOW)
        assert value is not None
        return value

    return price


@pytest.fixture
def client(module: BrokerModule) -> Iterator[TestClient]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with module.lifespan():
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(BrokerApiV1(module), prefix=V1)
    app.include_router(BrokerApiV2(module), prefix=V2)
    with TestClient(app) as client:
        yield client
