"""A module version's own middleware and exception handlers (``ModuleApi.add_middleware``,
``add_exception_handler``): applied by the host to that version's routes only, on every deployment."""

from __future__ import annotations

from typing import Any, overload

import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import BetaV1, CoreApi
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from trading_core import Module, ModuleApi
from trading_host import ConfigError, Installed, ServedVersion, embed
from trading_host._serve._dispatch import run_route
from trading_host._serve._wiring import PlanWiring


class Refused(Exception):
    """Handled by gamma v1 only."""


class NotMine(Exception):
    """Handled by no module version."""


class Stamp:
    """Pure ASGI middleware: names the version on every response and WebSocket handshake."""

    def __init__(self, app: ASGIApp, *, value: str) -> None:
        self.app = app
        self.value = value.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), (b"x-stamp", self.value)]}
            await send(message)

        await self.app(scope, receive, stamped)


@overload
async def refused(conn: Request, exc: Refused) -> Response: ...
@overload
async def refused(conn: WebSocket, exc: Refused) -> None: ...
async def refused(conn: Request | WebSocket, exc: Refused) -> Response | None:
    # One handler for both: the version's handlers answer its HTTP routes and its WebSockets.
    if isinstance(conn, WebSocket):
        await conn.close(code=4409, reason=str(exc))
        return None
    return JSONResponse({"refused": str(exc), "by": "gamma v1"}, status_code=409)


class GammaModule(Module):
    name = "gamma"


def _routes(api: ModuleApi) -> None:
    @api.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @api.get("/refused")
    async def refuse() -> dict[str, bool]:
        raise Refused("not today")

    @api.get("/not-mine")
    async def not_mine() -> dict[str, bool]:
        raise NotMine("nobody's")

    @api.get("/teapot")
    async def teapot() -> dict[str, bool]:
        raise HTTPException(418)

    @api.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"hello": True})
        await websocket.close()

    @api.websocket("/ws-refused")
    async def ws_refused(websocket: WebSocket) -> None:
        raise Refused("no stream")


class GammaV1(ModuleApi):
    module = GammaModule
    version = "v1"

    def __init__(self, module: GammaModule) -> None:
        super().__init__(module)
        self.add_middleware(Stamp, value="gamma v1")
        self.add_exception_handler(Refused, refused)

        @self.exception_handler(418)
        async def teapot(request: Request, exc: HTTPException) -> JSONResponse:
            return JSONResponse({"teapot": "gamma v1"}, status_code=418)

        _routes(self)


class GammaV2(ModuleApi):
    module = GammaModule
    version = "v2"

    def __init__(self, module: GammaModule) -> None:
        super().__init__(module)
        _routes(self)


@pytest.fixture
def gamma() -> Installed:
    """core v1, gamma v1 (middleware and handlers) and v2 (neither), beta v1 (neither)."""
    return Installed.from_apis([CoreApi, GammaV1, GammaV2, BetaV1], distribution="trading-gamma")


def test_middleware_wraps_only_its_own_version(gamma: Installed) -> None:
    with TestClient(factory_for(gamma).create_app()) as client:
        assert client.get("/api/v1/gamma/ok").headers["x-stamp"] == "gamma v1"
        for path in ["/api/v2/gamma/ok", "/api/v1/beta/items", "/api/v1/core/health", "/api/v9/gamma/ok"]:
            assert "x-stamp" not in client.get(path).headers, path


def test_a_handler_answers_its_versions_errors_inside_its_middleware(gamma: Installed) -> None:
    with TestClient(factory_for(gamma).create_app(), raise_server_exceptions=False) as client:
        v1 = client.get("/api/v1/gamma/refused")
        v2 = client.get("/api/v2/gamma/refused")
        teapot_v1 = client.get("/api/v1/gamma/teapot")
        teapot_v2 = client.get("/api/v2/gamma/teapot")

    assert (v1.status_code, v1.json()) == (409, {"refused": "not today", "by": "gamma v1"})
    assert v1.headers["x-stamp"] == "gamma v1"
    assert v2.status_code == 500  # the same error of another version is not v1's to answer
    assert (teapot_v1.status_code, teapot_v1.json()) == (418, {"teapot": "gamma v1"})
    assert (teapot_v2.status_code, list(teapot_v2.json())) == (418, ["detail"])  # FastAPI's own


def test_what_the_versions_handlers_leave_goes_to_the_apps_handlers(gamma: Installed) -> None:
    app = FastAPI()

    @app.exception_handler(NotMine)
    async def not_mine(request: Request, exc: NotMine) -> JSONResponse:
        return JSONResponse({"app": "not mine"}, status_code=400)

    @app.exception_handler(Refused)
    async def app_refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"app": "refused"}, status_code=422)

    embed(app, prefix="/custom", factory=factory_for(gamma))
    with TestClient(app) as client:
        mine = client.get("/custom/v1/gamma/refused")
        others = client.get("/custom/v2/gamma/refused")
        left = client.get("/custom/v1/gamma/not-mine")
        missing = client.get("/custom/v1/gamma/nope")
        wrong_method = client.delete("/custom/v1/gamma/ok")

    assert (mine.status_code, mine.json()["by"]) == (409, "gamma v1")  # the version's handler first
    assert (others.status_code, others.json()) == (422, {"app": "refused"})
    assert (left.status_code, left.json()) == (400, {"app": "not mine"})
    # The app's handlers run inside the version's middleware, as they run inside the app's own.
    assert left.headers["x-stamp"] == "gamma v1"
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert missing.headers["x-stamp"] == "gamma v1"
    assert (wrong_method.status_code, wrong_method.headers["x-stamp"]) == (405, "gamma v1")


def test_standalone_applies_the_versions_hooks(gamma: Installed) -> None:
    app = factory_for(gamma, {"ENABLED_MODULES": "gamma", "MODULE_VERSION": "v1"}).create_app()
    with TestClient(app) as client:
        ok = client.get("/v1/ok")
        refused_ = client.get("/v1/refused")
        core = client.get("/core/v1/health")

    assert ok.headers["x-stamp"] == "gamma v1"
    assert (refused_.status_code, refused_.headers["x-stamp"]) == (409, "gamma v1")
    assert core.status_code == 200
    assert "x-stamp" not in core.headers


def test_websocket_routes_pass_through_the_hooks(gamma: Installed) -> None:
    with TestClient(factory_for(gamma).create_app()) as client:
        with client.websocket_connect("/api/v1/gamma/ws") as ws:
            assert ws.receive_json() == {"hello": True}
            assert (b"x-stamp", b"gamma v1") in (ws.extra_headers or [])
        with client.websocket_connect("/api/v2/gamma/ws") as ws:
            assert ws.receive_json() == {"hello": True}
            headers: list[tuple[bytes, bytes]] = ws.extra_headers or []
            assert all(name != b"x-stamp" for name, _ in headers)
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/v1/gamma/ws-refused"):
            pass
    assert (closed.value.code, closed.value.reason) == (4409, "no stream")


def test_a_version_without_hooks_costs_nothing(gamma: Installed) -> None:
    factory = factory_for(gamma)
    plan = factory.plan()
    wiring = PlanWiring(plan, None)
    module = GammaModule()
    bare = wiring.target(run_route, ServedVersion("v2", "gamma", "v2", "/api/v2/gamma"), GammaV2(module))
    hooked = wiring.target(run_route, ServedVersion("v1", "gamma", "v1", "/api/v1/gamma"), GammaV1(module))

    assert bare is run_route
    assert isinstance(hooked, Stamp)


def test_a_middleware_that_fails_to_build_is_a_problem_before_serving() -> None:
    class BrokenV1(ModuleApi):
        module = GammaModule
        version = "v1"

        def __init__(self, module: GammaModule) -> None:
            super().__init__(module)
            self.add_middleware(Stamp, value=None)  # type: ignore[arg-type]
            _routes(self)

    installed = Installed.from_apis([CoreApi, BrokenV1])
    with pytest.raises(ConfigError) as raised:
        factory_for(installed).create_app()
    [problem] = raised.value.problems
    assert problem.code == "plugin-contract"
    assert "gamma v1" in problem.message
    assert "AttributeError" in problem.message
    assert "BrokenV1" in problem.fix


def test_hooks_added_after_the_version_is_served_are_refused(gamma: Installed) -> None:
    factory = factory_for(gamma)
    factory.create_app()
    api: Any = factory.runtime.api(GammaV2, {})
    with pytest.raises(RuntimeError, match=r"GammaV2.add_middleware\(\) was called after the version was served"):
        api.add_middleware(Stamp, value="late")
    with pytest.raises(RuntimeError, match="call it in __init__"):
        api.add_exception_handler(Refused, refused)
