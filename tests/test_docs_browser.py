"""Swagger UI and ReDoc render the served operations in a real headless Chromium with no internet:
every host but the server's own is unresolvable and every other address goes to a dead proxy, and
Chromium's network log shows the pages asked nothing of any other host (the pages' content
security policy blocks ReDoc's one hard-coded call, for its sidebar logo, before it is made)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import BIN, Server, start_server

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install -y chromium); CI installs it"
    ),
    pytest.mark.modules("broker"),
    pytest.mark.independent,
    pytest.mark.xdist_group("docs_browser"),  # the tests share one server
]


@dataclass
class Page:
    dom: str
    requests: list[str]
    """Every URL the page itself requested (not Chromium's own background traffic)."""


def open_page(url: str, tmp_path: Path) -> Page:
    """Load ``url`` in headless Chromium, let its scripts run, and return the DOM and its requests."""
    assert CHROMIUM is not None
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))  # a new, empty profile
    net_log = profile.with_name(profile.name + "-net.json")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # No internet: names other than the loopback address do not resolve, and any address that
        # is not loopback goes to a proxy nobody listens on.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        f"--log-net-log={net_log}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    # Its own session, so that a hung browser is ended with every process it started.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        dom, errors = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    assert process.returncode == 0, errors
    return Page(dom, _page_requests(json.loads(net_log.read_text()), url))


def _page_requests(log: dict[str, Any], url: str) -> list[str]:
    """The URLs the page requested: its own URL and every request the page's origin initiated.
    Chromium's own traffic (update checks, autofill) has no initiator and is left out."""
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    origin = "/".join(url.split("/", 3)[:3])  # http://127.0.0.1:PORT
    requests = [event.get("params", {}) for event in log["events"] if event["type"] == start]
    return [r["url"] for r in requests if r.get("url") == url or r.get("initiator") == origin]


def operation_ids(document: dict[str, Any]) -> set[str]:
    return {op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for both pages (they only read from it)."""
    server = start_server([str(BIN / "trading-host"), "serve", "--port", "{port}"], cwd=tmp_path_factory.mktemp("docs"))
    yield server
    server.stop()


def test_swagger_ui_renders_every_operation_of_each_global_version(server: Server, tmp_path: Path) -> None:
    for version, placed in (("v1", "broker_placeOrder"), ("v2", "broker_placeOrderV2")):
        document = server.get(f"/api/{version}/openapi.json").json()
        page = open_page(f"{server.base_url}/api/{version}/docs", tmp_path)

        expected = operation_ids(document)
        assert placed in expected
        # Swagger UI gives each rendered operation block the id operations-<tag>-<operationId>.
        missing = [op for op in expected if not re.search(rf'id="operations-[^"]*-{re.escape(op)}"', page.dom)]
        assert not missing, f"Swagger UI did not render {missing} at /api/{version}/docs"
        for path in document["paths"]:
            assert f'data-path="{path}"' in page.dom
        assert {r.rsplit("/", 1)[1] for r in page.requests} >= {
            "docs",
            "swagger-ui.css",
            "swagger-ui-bundle.js",
            "openapi.json",
        }
        assert all(r.startswith(server.base_url + "/") for r in page.requests), page.requests


def test_redoc_renders_every_operation(server: Server, tmp_path: Path) -> None:
    document = server.get("/api/v1/openapi.json").json()

    page = open_page(f"{server.base_url}/api/v1/redoc", tmp_path)

    # ReDoc gives each operation section the id tag/<tag>/operation/<operationId>.
    missing = [op for op in operation_ids(document) if f'/operation/{op}"' not in page.dom]
    assert not missing, f"ReDoc did not render {missing}"
    assert {r.rsplit("/", 1)[1] for r in page.requests} >= {"redoc", "redoc.standalone.js", "openapi.json"}
    assert all(r.startswith(server.base_url + "/") for r in page.requests), page.requests
