"""A hand-written FastAPI app serving what ``trading_host.main:app`` serves with only trading-core
installed: ``/api/{v1,v2}/core/health`` and ``/versions``, with FastAPI's own docs routes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    modules: dict[str, dict[str, Any]]


class ModuleVersion(BaseModel):
    module: str
    version: str
    distribution: str
    distribution_version: str
    global_versions: list[str]
    status: str


def create_app() -> FastAPI:
    app = FastAPI(title="Trading API")
    for g in ("v1", "v2"):

        @app.get(f"/api/{g}/core/health", response_model=Health)
        async def health() -> Health:
            return Health(status="ok", modules={})

        @app.get(f"/api/{g}/core/versions", response_model=list[ModuleVersion])
        async def versions() -> list[ModuleVersion]:
            version = ModuleVersion(
                module="core",
                version="v1",
                distribution="trading-core",
                distribution_version="1.0.0",
                global_versions=["v1", "v2"],
                status="stable",
            )
            return [version]

    return app
