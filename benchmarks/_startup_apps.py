"""The apps ``bench_startup.py`` starts with uvicorn, each importing only what it needs.

Targets (run from the repository root, or with ``--app-dir`` pointing at it)::

    uvicorn benchmarks._startup_apps:floor                     # a bare ASGI app: Python + uvicorn
    uvicorn --factory benchmarks._startup_apps:hand_core       # what trading_host.main:app serves, by hand
    uvicorn --factory benchmarks._startup_apps:hand_items      # N module versions' item routes, by hand
    uvicorn --factory benchmarks._startup_apps:host_items      # the host over N synthetic module versions

``hand_items`` and ``host_items`` read ``BENCH_STARTUP_COUNT`` (default 100) and
``BENCH_STARTUP_SHAPE`` (``versions``, the default, or ``modules``); ``host_items`` writes its
configuration into ``BENCH_STARTUP_CONFIG_DIR`` (default: a new temporary directory).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi import FastAPI

    from benchmarks._items import Layout


async def floor(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with 200 and supports the lifespan protocol: the start-up floor."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def hand_core() -> FastAPI:
    """The routes ``trading_host.main:app`` serves when only trading-core is installed, by hand:
    ``/api/{v1,v2}/core/health`` and ``/versions``, with FastAPI's own docs routes."""
    from typing import Literal

    from fastapi import FastAPI, Response
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

    app = FastAPI(title="Trading API")
    for g in ("v1", "v2"):

        @app.get(f"/api/{g}/core/health", response_model=Health)
        async def health(response: Response) -> Health:
            return Health(status="ok", modules={})

        @app.get(f"/api/{g}/core/versions", response_model=list[ModuleVersion])
        async def versions() -> list[ModuleVersion]:
            return [
                ModuleVersion(
                    module="core",
                    version="v1",
                    distribution="trading-core",
                    distribution_version="1.0.0",
                    global_versions=["v1", "v2"],
                    status="stable",
                )
            ]

    return app


def _layout() -> Layout:
    from benchmarks._items import Layout

    return Layout.for_count(
        int(os.environ.get("BENCH_STARTUP_COUNT", "100")), os.environ.get("BENCH_STARTUP_SHAPE", "versions")
    )


def hand_items() -> FastAPI:
    """Every module version's item routes written directly on one FastAPI app (docs on)."""
    from benchmarks._items import hand_written_flat_app

    return hand_written_flat_app(_layout(), docs=True)


def host_items() -> FastAPI:
    """The host composing core v1 and the synthetic module versions (modules given directly, no discovery)."""
    import tempfile
    from pathlib import Path

    from benchmarks._synthetic import host_app

    directory = os.environ.get("BENCH_STARTUP_CONFIG_DIR") or tempfile.mkdtemp(prefix="bench-startup-")
    return host_app(_layout(), Path(directory))
