"""A module version split across files with ``include_router``: served on every FastAPI release.

FastAPI 0.137 and later keep an included router as one route (before, they copied its routes);
the host refused it at start-up ("a module's routes must be HTTP or WebSocket routes").
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, WebSocket
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import CoreApi

from trading_core import Module, ModuleApi, served_routes
from trading_host import Installed


async def _key(x_key: str = Header()) -> str:
    return x_key


def _orders_router() -> APIRouter:
    orders = APIRouter()

    @orders.get("/orders/{order_id}", operation_id="getOrder", name="get_order")
    async def get_order(order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    @orders.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"live": True})
        await websocket.close()

    deeper = APIRouter()

    @deeper.delete("/orders/{order_id}", operation_id="cancelOrder")
    async def cancel(order_id: int) -> dict[str, int]:
        return {"cancelled": order_id}

    orders.include_router(deeper)
    return orders


class SplitModule(Module):
    name = "split"


class SplitApi(ModuleApi):
    module = SplitModule
    version = "v1"

    def __init__(self, module: SplitModule) -> None:
        super().__init__(module)
        self.include_router(_orders_router(), prefix="/desk", dependencies=[Depends(_key)])

        @self.get("/ping", operation_id="ping")
        async def ping() -> dict[str, str]:
            return {"ping": "pong"}


def test_served_routes_lists_included_routes_with_their_full_paths() -> None:
    served = {(r.path, tuple(sorted(r.methods))) for r in served_routes(SplitApi(SplitModule()).routes)}
    assert served == {
        ("/desk/orders/{order_id}", ("GET",)),
        ("/desk/live", ()),
        ("/desk/orders/{order_id}", ("DELETE",)),
        ("/ping", ("GET",)),
    }


def test_an_included_router_is_served_with_its_prefix_and_dependencies() -> None:
    app = factory_for(Installed.from_apis([CoreApi, SplitApi])).create_app(global_version="v1")
    with TestClient(app) as client:
        assert client.get("/api/v1/split/ping").json() == {"ping": "pong"}
        assert client.get("/api/v1/split/desk/orders/7", headers={"x-key": "k"}).json() == {"order_id": 7}
        assert client.delete("/api/v1/split/desk/orders/7", headers={"x-key": "k"}).json() == {"cancelled": 7}
        assert client.get("/api/v1/split/desk/orders/7").status_code == 422  # the inclusion's dependency applies
        refused = client.put("/api/v1/split/desk/orders/7", headers={"x-key": "k"})
        assert refused.status_code == 405
        assert refused.headers["allow"] == "DELETE, GET"
        with client.websocket_connect("/api/v1/split/desk/live", headers={"x-key": "k"}) as websocket:
            assert websocket.receive_json() == {"live": True}
        paths = client.get("/api/v1/openapi.json").json()["paths"]
        assert set(paths) >= {"/api/v1/split/desk/orders/{order_id}", "/api/v1/split/ping"}
        assert app.url_path_for("v1:split:get_order", order_id=3) == "/api/v1/split/desk/orders/3"
