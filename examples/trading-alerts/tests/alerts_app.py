"""One alerts module served in v1 and v2 side by side, as the host serves them: one instance, one
service, each version under its own prefix, the module's lifespan run by the app's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient

from trading_alerts import AlertsModule
from trading_alerts.api import v1, v2
from trading_core import ModuleContext
from trading_core.testing import include_api

V1 = "/api/v1/alerts"
V2 = "/api/v2/alerts"


def serve(settings: dict[str, Any] | None = None) -> TestClient:
    module = AlertsModule(ModuleContext(settings=settings or {}))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with module.lifespan():
            yield

    app = FastAPI(lifespan=lifespan, openapi_url=None)  # a document per version: document()
    include_api(app, v1.AlertsApi(module), prefix=V1)
    include_api(app, v2.AlertsApi(module), prefix=V2)
    return TestClient(app)


def document(version: str) -> dict[str, Any]:
    """The OpenAPI document of one version, as the host makes it (one per version: the two
    versions share operation ids, as the versions of a module do)."""
    api = {"v1": v1.AlertsApi, "v2": v2.AlertsApi}[version](AlertsModule())
    return get_openapi(title=f"alerts {version}", version=version, routes=api.routes)
