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
from typing import TYPE_CHECKING

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
    """What ``trading_host.main:app`` serves here, written by hand (see ``_hand_core.py``)."""
    from benchmarks._hand_core import create_app

    return create_app()


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
