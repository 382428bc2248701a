"""What :class:`~trading_core.ModuleApi`'s hooks need: the types of a middleware class and of an
exception handler, and the layer that runs a module version's exception handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar

# FastAPI's routes run their endpoints through it, so it is there wherever FastAPI is.
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket

P = ParamSpec("P")
E = TypeVar("E", bound=Exception)


class MiddlewareFactory(Protocol[P]):
    """An ASGI middleware class (or factory): called with the app to wrap and its options."""

    def __call__(self, app: ASGIApp, /, *args: P.args, **kwargs: P.kwargs) -> ASGIApp: ...


HandlerFor = Callable[[Request, E], Awaitable[Response] | Response] | Callable[[WebSocket, E], Awaitable[None]]
"""An exception handler of errors of type ``E``: called with the request (or the WebSocket) and the
error, it returns the response, as a FastAPI app's handlers do."""

HANDLERS_KEY = "starlette.exception_handlers"
"""Where Starlette's ``ExceptionMiddleware`` puts the app's handlers, and where every route looks
up the handler of an error its endpoint raised."""


class ExceptionHandling:
    """Runs ``app`` (a module version's routes) with the version's exception handlers in front of
    the app's.

    A route answers its endpoint's errors with the handlers it finds in the scope, which
    ``ExceptionMiddleware`` put there: this layer puts the version's there instead, so the route
    answers what they cover. The rest, and what is raised around the route (a 404 or 405), go to
    the version's handlers and then to the app's, here: inside the version's middleware, as an
    app's handlers run inside the app's middleware.
    """

    __slots__ = ("app", "handlers")

    def __init__(self, app: ASGIApp, handlers: Mapping[int | type[Exception], ExceptionHandler]) -> None:
        self.app = app
        by_class: dict[Any, ExceptionHandler] = {k: h for k, h in handlers.items() if not isinstance(k, int)}
        by_status: dict[int, ExceptionHandler] = {k: h for k, h in handlers.items() if isinstance(k, int)}
        self.handlers = (by_class, by_status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn: Request | WebSocket
        if scope["type"] == "http":
            conn = Request(scope, receive)
        elif scope["type"] == "websocket":
            conn = WebSocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)
            return
        # wrap_app_handling_exceptions takes the handlers it finds in the scope when called.
        outer = scope.get(HANDLERS_KEY)
        scope[HANDLERS_KEY] = self.handlers
        app = wrap_app_handling_exceptions(self.app, conn)
        if outer is not None:
            scope[HANDLERS_KEY] = outer
            app = wrap_app_handling_exceptions(app, conn)
            scope[HANDLERS_KEY] = self.handlers  # for the route's own lookup
        await app(scope, receive, send)
