"""Fixtures: the datafeed module (frozen clock) served as v1 by a plain FastAPI app."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trading_core import ModuleContext
from trading_core.testing import include_api
from trading_datafeed import DatafeedModule
from trading_datafeed.api.v1 import DatafeedApi

sys.path.insert(0, str(Path(__file__).parent))  # old_datafeed.py beside this file, in any import mode

NOW = datetime(2025, 3, 12, 15, 30, 20, tzinfo=UTC).timestamp()


def serve(module: DatafeedModule, prefix: str = "/api/v1/datafeed") -> TestClient:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with module.lifespan():
            yield

    app = FastAPI(lifespan=lifespan)
    include_api(app, DatafeedApi(module), prefix=prefix)
    return TestClient(app)


@pytest.fixture
def now() -> float:
    """The frozen time of the module's clock."""
    return NOW


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build a client over a datafeed module with the given settings; lifespans entered and closed."""
    opened: list[TestClient] = []

    def make(settings: dict[str, Any] | None = None, **kwargs: Any) -> TestClient:
        kwargs.setdefault("clock", lambda: NOW)
        client = serve(DatafeedModule(ModuleContext(settings=settings or {}), **kwargs))
        opened.append(client)
        return client.__enter__()

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
