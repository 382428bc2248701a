"""Helpers of the lifecycle, metrics and rollout tests: a plugin with HTTP and WebSocket endpoints,
lifecycle config snippets, Prometheus scrapes and the server's clock.

``relay`` v1 and v2 answer ``GET /ping`` with their version and the worker's process id (after
blocking the worker ``hold`` seconds, if asked), and echo on ``/ws``; its distribution ships
``docs/`` like a real module, so the host serves its guide.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from harness import FakeDistribution, write_distribution
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import ClientConnection, connect

MODULE = """
from trading_core import Module


class RelayModule(Module):
    name = "relay"
"""

API = """
import os
import time

from fastapi import WebSocket
from trading_core import ModuleApi

from ..._module import RelayModule


class RelayApi(ModuleApi):
    module = RelayModule
    version = "{version}"

    def __init__(self, module):
        super().__init__(module)

        @self.get("/ping", operation_id="ping")
        async def ping(hold: float = 0) -> dict[str, object]:
            # Holding the event loop (on purpose, for the multi-worker test) sends the next
            # connections to another worker process.
            time.sleep(hold)
            return {{"version": "{version}", "pid": os.getpid()}}

        @self.websocket("/ws")
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept()
            message = await websocket.receive_text()
            await websocket.send_text(f"{version}:{{message}}")
            await websocket.close()
"""

GUIDE = "# Migrating from relay v1 to v2\n\nCall /api/v2/relay instead.\n"


def relay_plugin(root: Path) -> FakeDistribution:
    """Install ``trading-relay`` 2.0.0 (relay v1 and v2, with docs/) into ``root`` for PYTHONPATH."""
    files = {
        "relay_plugin/__init__.py": "",
        "relay_plugin/_module.py": MODULE,
        "relay_plugin/api/__init__.py": "",
        "relay_plugin/docs/CHANGELOG-v1.md": "# relay v1\n",
        "relay_plugin/docs/CHANGELOG-v2.md": "# relay v2\n",
        "relay_plugin/docs/migration-v1-to-v2.md": GUIDE,
    }
    for version in ("v1", "v2"):
        files[f"relay_plugin/api/{version}/__init__.py"] = API.format(version=version)
    return write_distribution(
        root,
        "trading-relay",
        "2.0.0",
        entry_points={f"relay.{v}": f"relay_plugin.api.{v}:RelayApi" for v in ("v1", "v2")},
        files=files,
        requires=["trading-core>=1.0,<2"],
    )


def relay_lifecycle(deprecation: str, sunset: str, *, short_notice: bool = False) -> str:
    """A config deprecating relay v1 in favour of v2, with relay's shipped guide."""
    return f"""
[matrix.v1]
core = "v1"
relay = "v1"

[matrix.v2]
core = "v1"
relay = "v2"

[lifecycle.relay.v1]
status = "deprecated"
deprecation = {deprecation}
sunset = {sunset}
successor = "v2"
migration_guide = "/docs/relay/migration-v1-to-v2"
{"short_notice = true" if short_notice else ""}
"""


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def midnight(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


def ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://") + path


def ws_connect(base_url: str, path: str, headers: dict[str, str] | None = None) -> ClientConnection:
    return connect(ws_url(base_url, path), additional_headers=headers or {}, open_timeout=10)


def scrape(base_url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called ``name`` at ``/metrics``, by their sorted labels."""
    response = httpx.get(base_url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found
