"""Checks that need the module running: its lifespan, its health report, its parameterless GETs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from .._contract import Module, ModuleApi
from .._routes import served_routes

_LIFESPAN_HINT = "Module.lifespan must be an @asynccontextmanager method that yields exactly once"


class _CountingLifespan:
    """Stands in for ``module.lifespan`` to count how often it is entered and left."""

    def __init__(self, module: Module) -> None:
        self.original = module.lifespan
        self.entered = 0
        self.exited = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        context: AbstractAsyncContextManager[None] = self.original()
        async with context:
            self.entered += 1
            yield
        self.exited += 1


def _app(api: ModuleApi, lifespan: _CountingLifespan, errors: list[Exception]) -> FastAPI:
    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        async with lifespan():
            yield

    async def record(_: Request, exc: Exception) -> Response:
        errors.append(exc)
        return PlainTextResponse("Internal Server Error", status_code=500)

    app = FastAPI(
        lifespan=run,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        exception_handlers={Exception: record},
    )
    # As the host does: the version's routes inside its own middleware and exception handlers,
    # and the module's lifespan run, not the router's (include_api would also run its startup handlers).
    app.router.routes.append(Mount("", app=api.wrap(api)))
    return app


def _check_health(client: TestClient, module: Module) -> list[str]:
    name = type(module).__name__
    assert client.portal is not None, "the TestClient session is open"
    try:
        report: Any = client.portal.call(module.health)
    except Exception as exc:  # the core module turns a raising check into "down"; say why here
        return [f"{name}.health() raised {type(exc).__name__}: {exc}"]
    if not isinstance(report, dict) or not isinstance(report.get("status"), str):
        return [f"{name}.health() returned {report!r}: return a dict with a 'status' string, like {{'status': 'ok'}}"]
    problems = []
    if report["status"] != "ok":
        problems.append(f"{name}.health() reports {report!r} right after start-up: it should be 'ok' once started")
    try:
        json.dumps(report)
    except (TypeError, ValueError) as exc:
        problems.append(f"{name}.health() returned {report!r}, which the core's /health cannot send as JSON: {exc}")
    return problems


async def _status_of_get(app: ASGIApp, path: str, state: dict[str, Any], errors: list[Exception]) -> int | None:
    """GET ``path`` from ``app`` and stop once the status is known, so that an endless stream (a live
    feed) cannot hang us. Over ASGI directly: the TestClient of older Starlette releases (FastAPI
    0.115's) reads the whole body before it answers, and raises the errors the app has answered."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "state": state,
    }
    status: int | None = None
    started = anyio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await started.wait()  # the client stays until the status is in, then goes
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            started.set()

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:  # raised again after the app's handler has recorded it and answered
            if not errors:
                errors.append(exc)
        finally:
            started.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run)
        await started.wait()
        tasks.cancel_scope.cancel()
    return status


def _check_gets(client: TestClient, app: ASGIApp, api: ModuleApi, errors: list[Exception]) -> list[str]:
    """Every GET without path parameters answers without an unhandled error."""
    assert client.portal is not None, "the TestClient session is open"
    problems = []
    for served in served_routes(api.routes):  # an included router's GETs too
        path = served.path
        if not isinstance(served.route, APIRoute) or "GET" not in served.methods or path is None:
            continue
        if served.served.param_convertors:
            continue
        errors.clear()
        status = client.portal.call(_status_of_get, app, path, dict(client.app_state), errors)
        if errors:
            problems.append(f"GET {path} raised {type(errors[0]).__name__}: {errors[0]}")
        elif status == 500:
            problems.append(f"GET {path} answered 500")
    return problems


def check_session(module: Module, api: ModuleApi) -> list[str]:
    """Run ``module`` and ``api`` in a TestClient session: the lifespan enters and exits cleanly exactly
    once, ``health()`` reports a status, and the parameterless GETs answer."""
    name = type(module).__name__
    lifespan = _CountingLifespan(module)
    problems: list[str] = []
    errors: list[Exception] = []
    try:
        app = _app(api, lifespan, errors)
    except Exception as exc:  # the host reports it before serving anything
        return [f"{type(api).__name__}: its middleware failed to build: {type(exc).__name__}: {exc}"]
    # Shadow the bound method so that anything entering the lifespan, not only our app, is counted.
    module.lifespan = lifespan  # type: ignore[method-assign]
    client = TestClient(app)
    try:
        try:
            client.__enter__()
        except Exception as exc:
            return [f"{name}.lifespan failed at start-up: {type(exc).__name__}: {exc} ({_LIFESPAN_HINT})"]
        try:
            problems += _check_health(client, module)
            problems += _check_gets(client, app, api, errors)
        finally:
            try:
                client.__exit__(None, None, None)
            except Exception as exc:
                problems.append(f"{name}.lifespan failed at shutdown: {type(exc).__name__}: {exc} ({_LIFESPAN_HINT})")
    finally:
        del module.lifespan
    if (lifespan.entered, lifespan.exited) != (1, 1) and not any("lifespan failed" in p for p in problems):
        problems.append(
            f"{name}.lifespan was entered {lifespan.entered} and left {lifespan.exited} times in one session, "
            "where the host enters it once and leaves it once: do not start it from the router as well"
        )
    return problems
