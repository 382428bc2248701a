"""``ModuleApi``'s own middleware and exception handlers: registration, order, precedence, and the
conformance kit and ``include_api`` applying them as the host does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trading_core import Module, ModuleApi
from trading_core.testing import check_api, include_api


class Tag:
    """Appends its name to the ``x-order`` header, so a test sees which middleware ran and in
    which order (the innermost sets the header first)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                order = headers.get(b"x-order", b"").decode()
                headers[b"x-order"] = f"{order},{self.name}".lstrip(",").encode()
                message = {**message, "headers": list(headers.items())}
            await send(message)

        await self.app(scope, receive, tagged)


class FeedError(Exception):
    pass


class UnknownFeed(FeedError):
    pass


class FeedModule(Module):
    name = "feed"


async def feed_error(_: Request, exc: FeedError) -> JSONResponse:
    return JSONResponse({"error": str(exc), "by": "version"}, status_code=422)


class FeedApi(ModuleApi):
    module = FeedModule
    version = "v1"

    def __init__(self, module: FeedModule) -> None:
        super().__init__(module)
        self.add_middleware(Tag, "first")
        self.add_middleware(Tag, name="second")
        self.add_exception_handler(FeedError, feed_error)

        @self.exception_handler(RequestValidationError)
        async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
            return JSONResponse({"error": "invalid", "by": "version"}, status_code=400)

        @self.get("/feeds", operation_id="listFeeds")
        async def feeds() -> list[str]:
            return ["a"]

        @self.get("/feeds/{name}", operation_id="getFeed")
        async def feed(name: str, limit: int = 1) -> dict[str, str]:
            if name == "unknown":
                raise UnknownFeed(f"no feed {name}")
            if name == "gone":
                raise HTTPException(410)
            return {"name": name}


def serve(*, app_handlers: bool = False) -> TestClient:
    app = FastAPI()
    if app_handlers:

        @app.exception_handler(UnknownFeed)
        async def unknown(_: Request, exc: UnknownFeed) -> JSONResponse:
            return JSONResponse({"error": str(exc), "by": "app"}, status_code=404)

        @app.exception_handler(HTTPException)
        async def http(_: Request, exc: HTTPException) -> JSONResponse:
            return JSONResponse({"status": exc.status_code, "by": "app"}, status_code=exc.status_code)

    include_api(app, FeedApi(FeedModule()), prefix="/api/v1/feed")

    @app.get("/outside")
    async def outside() -> dict[str, bool]:
        return {"outside": True}

    return TestClient(app)


# --- registration ---------------------------------------------------------------------------


def test_hooks_are_recorded_as_a_fastapi_app_records_them() -> None:
    api = FeedApi(FeedModule())

    recorded: list[tuple[Any, ...]] = [(m.cls, m.args, m.kwargs) for m in api.user_middleware]
    assert recorded == [
        (Tag, (), {"name": "second"}),  # the last added is the outermost
        (Tag, ("first",), {}),
    ]
    assert api.exception_handlers[FeedError] is feed_error
    assert set(api.exception_handlers) == {FeedError, RequestValidationError}


def test_a_version_without_hooks_is_served_as_it_is() -> None:
    api = ModuleApi(FeedModule())

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    assert api.wrap(app) is app
    assert isinstance(FeedApi(FeedModule()).wrap(app), Tag)


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (Exception, ValueError, "cannot handle <class 'Exception'>"),
        (500, ValueError, "cannot handle 500"),
        (KeyboardInterrupt, TypeError, "handle an Exception subclass or an HTTP status code"),
        ("404", TypeError, "handle an Exception subclass or an HTTP status code, not '404'"),
        (True, TypeError, "not True"),
    ],
)
def test_handlers_that_cannot_work_are_refused(key: Any, error: type[Exception], message: str) -> None:
    api = ModuleApi(FeedModule())
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        api.add_exception_handler(key, feed_error)
    with pytest.raises(TypeError, match="must be callable"):
        api.add_exception_handler(FeedError, "feed_error")  # type: ignore[arg-type]


def test_hooks_added_once_served_are_refused() -> None:
    api = FeedApi(FeedModule())
    api.wrap(api)
    with pytest.raises(RuntimeError, match=r"FeedApi.add_middleware\(\) was called after the version was served"):
        api.add_middleware(GZipMiddleware)
    with pytest.raises(RuntimeError, match=r"FeedApi.add_exception_handler\(\)"):
        api.add_exception_handler(KeyError, feed_error)  # type: ignore[arg-type]  # refused before it is looked at


# --- serving: include_api, as the host serves a version ---------------------------------------


def test_middleware_wraps_the_versions_routes_in_order_and_nothing_else() -> None:
    with serve() as client:
        inside = client.get("/api/v1/feed/feeds")
        outside = client.get("/outside")
        spec = client.get("/openapi.json").json()

    assert inside.json() == ["a"]
    assert inside.headers["x-order"] == "first,second"  # "first" innermost, as in FastAPI
    assert "x-order" not in outside.headers
    assert set(spec["paths"]) == {"/api/v1/feed/feeds", "/api/v1/feed/feeds/{name}", "/outside"}


def test_a_handler_answers_errors_of_its_class_and_subclasses() -> None:
    with serve() as client:
        unknown = client.get("/api/v1/feed/feeds/unknown")
        invalid = client.get("/api/v1/feed/feeds/x", params={"limit": "many"})
        gone = client.get("/api/v1/feed/feeds/gone")

    assert (unknown.status_code, unknown.json()) == (422, {"error": "no feed unknown", "by": "version"})
    assert unknown.headers["x-order"] == "first,second"
    assert (invalid.status_code, invalid.json()) == (400, {"error": "invalid", "by": "version"})
    assert (gone.status_code, gone.json()) == (410, {"detail": "Gone"})  # not the version's: FastAPI's


def test_the_versions_handlers_come_before_the_apps_and_the_apps_answer_the_rest() -> None:
    with serve(app_handlers=True) as client:
        # The app's handler is for the subclass; the version's, for the base class, still comes first.
        unknown = client.get("/api/v1/feed/feeds/unknown")
        gone = client.get("/api/v1/feed/feeds/gone")
        missing = client.get("/api/v1/feed/nope")

    assert unknown.json()["by"] == "version"
    assert (gone.status_code, gone.json()) == (410, {"status": 410, "by": "app"})
    # The app's handlers answer inside the version's middleware, as an app's run inside its own.
    assert gone.headers["x-order"] == "first,second"
    assert (missing.status_code, missing.json(), missing.headers["x-order"]) == (
        404,
        {"status": 404, "by": "app"},
        "first,second",
    )


# --- the conformance kit ----------------------------------------------------------------------


class HandledModule(Module):
    name = "handled"

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        yield


def _handled_api(*, handler: bool) -> type[ModuleApi]:
    class HandledApi(ModuleApi):
        module = HandledModule
        version = "v1"

        def __init__(self, module: HandledModule) -> None:
            super().__init__(module)
            if handler:
                self.add_exception_handler(FeedError, feed_error)

            @self.get("/status", operation_id="status")
            async def status() -> dict[str, str]:
                raise FeedError("answered by the version's handler")

    return HandledApi


def test_the_conformance_kit_serves_the_version_with_its_handlers() -> None:
    assert check_api(_handled_api(handler=True)) == []
    # Without the handler the same route fails the check: reported, or re-raised by the test client
    # of older Starlette releases (0.38), which re-raises the app's unhandled errors.
    try:
        problems = check_api(_handled_api(handler=False))
    except FeedError:
        problems = ["raised"]
    assert problems in (["GET /status raised FeedError: answered by the version's handler"], ["raised"])


def test_the_conformance_kit_reports_middleware_that_fails_to_build() -> None:
    class BrokenApi(ModuleApi):
        module = HandledModule
        version = "v1"

        def __init__(self, module: HandledModule) -> None:
            super().__init__(module)
            self.add_middleware(Tag, nme="typo")  # type: ignore[call-arg]

            @self.get("/status", operation_id="status")
            async def status() -> dict[str, str]:
                return {}

    [problem] = check_api(BrokenApi)
    assert problem.startswith("BrokenApi: its middleware failed to build: TypeError:")
