"""An app from ``create_app()`` passed to ``app.mount()``: Starlette never runs a mounted app's
lifespan, so the modules start on the first request (once), with a warning naming ``embed()``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import CoreApi

from trading_core import Module, ModuleApi, ModuleStartupError
from trading_host import Installed


class StoreModule(Module):
    """Like the broker: its routes need what its lifespan opens."""

    name = "store"
    starts = 0
    fail = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.open = False

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        type(self).starts += 1
        await asyncio.sleep(0.01)  # so that concurrent first requests overlap
        if type(self).fail:
            raise ModuleStartupError("the store at /nowhere cannot be opened", "create the folder")
        self.open = True
        yield
        self.open = False

    async def health(self) -> dict[str, str]:
        return {"status": "ok" if self.open else "down"}


class StoreApi(ModuleApi):
    module = StoreModule
    version = "v1"

    def __init__(self, module: StoreModule) -> None:
        super().__init__(module)

        @self.post("/orders", operation_id="placeOrder")
        async def place() -> dict[str, bool]:
            if not module.open:
                raise HTTPException(500, "the store is not open")
            return {"placed": True}


def _user_app() -> FastAPI:
    user = FastAPI()
    user.mount("/trading", factory_for(Installed.from_apis([CoreApi, StoreApi])).create_app(global_version="v1"))
    return user


def test_a_mounted_app_starts_its_modules_once_on_the_first_requests(caplog: pytest.LogCaptureFixture) -> None:
    StoreModule.starts, StoreModule.fail = 0, False
    user = _user_app()

    async def first_requests() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=user)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(
                await asyncio.gather(
                    client.post("/trading/api/v1/store/orders"),
                    client.post("/trading/api/v1/store/orders"),
                    client.get("/trading/api/v1/core/health"),
                )
            )

    with caplog.at_level(logging.WARNING, logger="trading_host"):
        responses = asyncio.run(first_requests())
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[2].json()["modules"]["store"]["status"] == "ok"
    assert StoreModule.starts == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "app.mount()" in warnings[0]
    assert "trading_host.embed(app, prefix=...)" in warnings[0]


def test_a_module_that_cannot_start_on_the_first_request_answers_503() -> None:
    StoreModule.starts, StoreModule.fail = 0, True
    try:
        client = TestClient(_user_app())
        refused = client.post("/trading/api/v1/store/orders")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert "module 'store' cannot start: the store at /nowhere cannot be opened" in refused.json()["detail"]
        assert refused.json()["fix"] == "create the folder"
        StoreModule.fail = False
        assert client.post("/trading/api/v1/store/orders").status_code == 200  # the next request tries again
    finally:
        StoreModule.fail = False


def test_an_app_whose_lifespan_runs_starts_no_module_on_a_request(caplog: pytest.LogCaptureFixture) -> None:
    StoreModule.starts, StoreModule.fail = 0, False
    app = factory_for(Installed.from_apis([CoreApi, StoreApi])).create_app(global_version="v1")
    with caplog.at_level(logging.WARNING, logger="trading_host"), TestClient(app) as client:
        assert client.post("/api/v1/store/orders").json() == {"placed": True}
    assert StoreModule.starts == 1
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
