"""Every way a FastAPI user plugs the platform in, on a real uvicorn (issue 10, items 1, 2, 3, 7, 8):
``app.mount()`` of a ``create_app()`` app, a ``ModuleApi`` split with ``include_router``, modules
defined in a script, everything under ``embed()``'s prefix, and the landing page."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import forked
import pytest
from harness import BIN, Serve, Server, start_server, with_pythonpath, write_distribution

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# A plugin whose v1 is split across files with include_router, as in any FastAPI app: on FastAPI
# 0.137 and later the host refused it at start-up ("a module's routes must be HTTP or WebSocket
# routes", with a repr of FastAPI's _IncludedRouter), and the conformance kit reported it.
SPLIT_MODULE = """
from trading_core import Module


class DeskModule(Module):
    name = "desk"
    description = "A desk split across files"
"""
SPLIT_ORDERS = """
from fastapi import APIRouter, Header, WebSocket

orders = APIRouter()


@orders.get("/orders/{order_id}", operation_id="getOrder")
async def get_order(order_id: int) -> dict[str, int]:
    return {"order_id": order_id}


@orders.post("/orders", operation_id="placeOrder", status_code=201)
async def place(x_desk: str = Header()) -> dict[str, str]:
    return {"placed_by": x_desk}


@orders.websocket("/live")
async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"live": True})
    await websocket.close()
"""
SPLIT_API = """
from trading_core import ModuleApi

from ..._module import DeskModule
from ._orders import orders


class DeskApi(ModuleApi):
    module = DeskModule
    version = "v1"

    def __init__(self, module):
        super().__init__(module)
        self.include_router(orders, prefix="/book")

        @self.get("/ping", operation_id="ping")
        async def ping() -> dict[str, str]:
            return {"ping": "pong"}
"""
SPLIT_CONFORMANCE = """
from trading_core.testing import ModuleConformance


class TestConformance(ModuleConformance):
    distribution = "trading-desk"


TestConformance().test_distribution()
TestConformance().test_api_versions()
print("conforms")
"""

# Only core and the desk plugin are enabled: nothing here depends on the installed modules, so
# these run in tests(all) on the newest FastAPI and in `lowest` on the oldest we support.
pytestmark = [pytest.mark.independent, pytest.mark.xdist_group("embedding")]


def desk_site(root: Path) -> Path:
    site = root / "site"
    write_distribution(
        site,
        "trading-desk",
        "1.0.0",
        entry_points={"desk.v1": "desk_plugin.api.v1:DeskApi"},
        files={
            "desk_plugin/__init__.py": "",
            "desk_plugin/_module.py": SPLIT_MODULE,
            "desk_plugin/api/__init__.py": "",
            "desk_plugin/api/v1/__init__.py": SPLIT_API,
            "desk_plugin/api/v1/_orders.py": SPLIT_ORDERS,
        },
        requires=["trading-core>=1.0,<2"],
    )
    return site


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``trading-host serve`` with the desk plugin, core and nothing else."""
    root = tmp_path_factory.mktemp("desk")
    env = with_pythonpath(desk_site(root), ENABLED_MODULES="desk")
    server = start_server([str(BIN / "trading-host"), "serve", "--port", "{port}"], cwd=root, env=env)
    yield server
    server.stop()


def test_included_routers_are_served(desk: Server) -> None:
    assert desk.get("/api/v1/desk/ping").json() == {"ping": "pong"}
    assert desk.get("/api/v1/desk/book/orders/7").json() == {"order_id": 7}
    placed = desk.post("/api/v1/desk/book/orders", headers={"X-Desk": "alice"})
    assert (placed.status_code, placed.json()) == (201, {"placed_by": "alice"})
    wrong = desk.client.put("/api/v1/desk/book/orders/7")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    paths = desk.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/desk/book/orders/{order_id}", "/api/v1/desk/book/orders", "/api/v1/desk/ping"} <= set(paths)


def test_an_included_routers_websocket_is_served(desk: Server) -> None:
    from websockets.sync.client import connect

    with connect(desk.base_url.replace("http", "ws") + "/api/v1/desk/book/live") as websocket:
        assert json.loads(websocket.recv(timeout=5)) == {"live": True}


def test_the_conformance_kit_checks_included_routers(tmp_path: Path) -> None:
    site = desk_site(tmp_path)
    (tmp_path / "check.py").write_text(SPLIT_CONFORMANCE)
    result = subprocess.run(
        [sys.executable, "check.py"], cwd=tmp_path, env=with_pythonpath(site), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "conforms"


def test_the_landing_page_lists_what_is_served(desk: Server) -> None:
    landing = desk.get("/")
    assert landing.headers["content-type"] == "application/json"
    body = landing.json()
    assert desk.get("/api").json() == body
    assert desk.get("/docs").json() == body
    assert set(body["global_versions"]) == {"v1", "v2"}
    v1 = body["global_versions"]["v1"]
    assert v1["docs"] == "/api/v1/docs"
    assert v1["modules"]["desk"] == {"version": "v1", "url": "/api/v1/desk", "status": "stable"}
    assert body["health"] == {"status": "ok", "modules": {"desk": {"status": "ok"}}}
    assert body["metrics"] == "/metrics"
    page = desk.get("/", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert '<a href="/api/v2/docs">docs</a>' in page.text
    assert desk.get("/api/v1").json()["global_versions"]["v1"]["modules"]["desk"]["version"] == "v1"


def test_404s_say_what_is_missing(desk: Server) -> None:
    module = desk.get("/api/v1/dsk/orders")
    assert module.status_code == 404
    assert module.json()["detail"] == "no module dsk in global version v1 at /api/v1/dsk/orders; v1 serves: core, desk"
    assert set(module.json()["served"]["global_versions"]) == {"v1", "v2"}
    version = desk.get("/api/v9/desk/ping")
    assert version.json()["detail"] == "no global version v9 is served at /api/v9/desk/ping; served: v1, v2"


# --- a create_app() app passed to app.mount() ----------------------------------------------------

MOUNTED_APP = """
from fastapi import FastAPI
from trading_host import AppFactory

app = FastAPI()
app.mount("/trading", AppFactory().create_app(global_version="v1"))
"""


@pytest.mark.modules("broker")
def test_a_mounted_app_starts_its_modules_on_the_first_request(serve: Serve, tmp_path: Path) -> None:
    # Starlette never runs a mounted app's lifespan: the broker's store was never opened, so
    # health answered 503 and placing an order raised "the broker store is not open" (a 500).
    (tmp_path / "user_app.py").write_text(MOUNTED_APP)
    server = serve(
        [str(BIN / "uvicorn"), "user_app:app", "--port", "{port}"],
        env=with_pythonpath(tmp_path, ENABLED_MODULES="broker"),
        ready_path="/trading/api/v1/core/health",
    )
    assert server.get("/trading/api/v1/core/health").status_code == 200
    order = {"symbol": "AAPL", "quantity": 1, "order_type": "MARKET"}
    placed = server.post("/trading/api/v1/broker/orders", json=order)
    assert placed.status_code == 200, placed.text
    assert server.get(f"/trading/api/v1/broker/orders/{placed.json()['id']}").status_code == 200
    output = server.stop()
    assert output.count("the Trading API modules are starting on the first request") == 1
    assert "use trading_host.embed(app, prefix=...)" in output


# --- modules defined in a script ----------------------------------------------------------------

SCRIPT = """
import sys

import uvicorn
from trading_core import Module, ModuleApi
from trading_core.core.api.v1 import CoreApi
from trading_host import AppFactory, Installed


class NotesModule(Module):
    name = "notes"


class NotesApi(ModuleApi):
    module = NotesModule
    version = "v1"

    def __init__(self, module):
        super().__init__(module)

        @self.get("/notes", operation_id="listNotes")
        async def notes() -> list[str]:
            return ["from a script"]


app = AppFactory(installed=Installed.from_apis([CoreApi, NotesApi])).create_app(global_version="v1")
uvicorn.run(app, port=int(sys.argv[1]))
"""


def test_modules_defined_in_a_script_are_served(serve: Serve, tmp_path: Path) -> None:
    # `python my_app.py`: Module.docs_folder() raised AttributeError for a class in __main__.
    (tmp_path / "my_app.py").write_text(SCRIPT)
    server = serve([sys.executable, str(tmp_path / "my_app.py"), "{port}"])
    assert server.get("/api/v1/notes/notes").json() == ["from a script"]
    assert "notes" not in server.get("/").json().get("documents", {})  # no package, so no documents


# --- embed(): everything under the prefix, collisions refused ----------------------------------

EMBEDDED_APP = """
from fastapi import FastAPI
from trading_host import embed

app = FastAPI()
embed(app, prefix="/trading")
{after}
"""
COLLIDING_ROUTE = """
@app.get("/trading/metrics")
async def my_metrics() -> dict[str, str]:
    return {{"mine": "yes"}}
"""


def test_everything_embedded_lives_under_the_prefix(serve: Serve, tmp_path: Path) -> None:
    site = desk_site(tmp_path)
    (site / "user_app.py").write_text(EMBEDDED_APP.format(after=""))
    server = serve(
        [str(BIN / "uvicorn"), "user_app:app", "--port", "{port}"],
        env=with_pythonpath(site, ENABLED_MODULES="desk"),
        ready_path="/trading/v1/core/health",
    )
    assert server.get("/trading/v1/desk/book/orders/3").json() == {"order_id": 3}
    assert "trading_api_requests_total" in server.get("/trading/metrics").text
    assert server.get("/metrics").status_code == 404
    landing = server.get("/trading").json()
    assert landing["global_versions"]["v1"]["docs"] == "/trading/v1/docs"
    assert landing["metrics"] == "/trading/metrics"
    assert server.get("/").status_code == 404  # the user's root stays the user's


def test_a_user_route_on_a_platform_path_stops_the_start(tmp_path: Path) -> None:
    site = desk_site(tmp_path)
    (site / "user_app.py").write_text(EMBEDDED_APP.format(after=COLLIDING_ROUTE.format()))
    result = forked.run(
        [str(BIN / "uvicorn"), "user_app:app", "--port", "0"],
        cwd=tmp_path,
        env=with_pythonpath(site, ENABLED_MODULES="desk"),
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert (
        "your route GET /trading/metrics (my_metrics) collides with the Trading API's metrics at /trading/metrics"
        in (output)
    )
    assert "Traceback" not in output
