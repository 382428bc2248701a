"""The host's answers to the errors of the module versions it serves, on every deployment form.

- A request the schema refuses gets FastAPI's 422 from whoever renders it (the version's own
  handler first, then the app's, a user's own included), but its ``input`` is made encodable
  before any of them sees it: JSON has ``NaN``, ``Infinity`` and numbers too large for a float
  (``1e400``), which Python reads as floats no JSON response may carry, and strings may hold lone
  surrogates that no UTF-8 body can. Rendered as they were, they turned the 422 into a 500.
- A body that is not UTF-8, or nested too deeply to parse, gets that 422 too, as any other body
  that is not JSON, instead of FastAPI's 400 (which no operation documents).
- An unhandled error gets a 500 with a problem body (RFC 9457), not Starlette's bare text.

Requests the dispatcher routes carry :class:`HostHandlers` in their scope in place of the app's
handlers (the app's, with the host's in front for the errors above); a version's own handlers are
wrapped once, when it is wired (:func:`guard_version_handlers`). Neither costs a request a call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from trading_core import ModuleApi

HANDLERS_KEY = "starlette.exception_handlers"
"""Where Starlette's ``ExceptionMiddleware`` puts an app's handlers, and where a route looks up the
handler of the error its endpoint raised."""

PROBLEM_MEDIA_TYPE = "application/problem+json"
_MAX_DEPTH = 32
"""How deep an echoed ``input`` is kept; deeper parts are replaced by ``"..."`` (FastAPI's encoder
recurses, and a body may nest as deep as the JSON parser allows)."""
_GUARDED = "__trading_host_guarded__"

logger = logging.getLogger("trading_host")

Handler = Callable[..., Any]
"""An exception handler: ``handler(request_or_websocket, exc)``, sync or async."""
Handlers = tuple[dict[Any, Handler], dict[int, Handler]]
"""Starlette's handler tables: by exception class, and by the status code of an ``HTTPException``."""


def encodable(value: Any, depth: int = 0) -> Any:
    """``value`` as a JSON response can carry it: non-finite floats as ``"NaN"``, ``"Infinity"``
    and ``"-Infinity"``, lone surrogates and bytes that are not UTF-8 backslash-escaped."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, Mapping | list | tuple):
        if depth >= _MAX_DEPTH:
            return "..."
        if isinstance(value, Mapping):
            return {encodable(k, depth + 1): encodable(v, depth + 1) for k, v in value.items()}
        items = [encodable(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value


def make_encodable(exc: RequestValidationError) -> RequestValidationError:
    """Rewrite ``exc``'s errors (and the body it keeps) in place with :func:`encodable`, once."""
    if not getattr(exc, _GUARDED, False):
        for error in exc.errors():
            if isinstance(error, dict):
                for key, item in error.items():
                    if key != "ctx":  # ctx may hold the validator's exception, which the renderers know
                        error[key] = encodable(item)
                ctx = error.get("ctx")
                if isinstance(ctx, dict):
                    error["ctx"] = {k: v if isinstance(v, Exception) else encodable(v) for k, v in ctx.items()}
        exc.body = encodable(exc.body)
        setattr(exc, _GUARDED, True)
    return exc


def unparsable_body(exc: HTTPException) -> RequestValidationError | None:
    """FastAPI's 400 for a JSON body it could not decode (not UTF-8, or nested deeper than the
    parser goes) as the 422 it gives any other body that is not JSON; ``None`` for any other 400."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        position: int = cause.start
        reason = f"the body is not UTF-8 ({cause.reason} at byte {cause.start})"
    elif isinstance(cause, RecursionError):
        position, reason = 0, "the body is nested too deeply"
    else:
        return None
    error = {"type": "json_invalid", "loc": ("body", position), "msg": "JSON decode error", "input": {}}
    return RequestValidationError([{**error, "ctx": {"error": reason}}], body=None)


async def _call(handler: Handler, conn: Any, exc: Exception) -> Response | None:
    if is_async_callable(handler):
        response: Response | None = await handler(conn, exc)
    else:
        response = await run_in_threadpool(handler, conn, exc)
    return response


def _lookup(by_class: Mapping[Any, Handler], exc_class: type[BaseException]) -> Handler | None:
    for cls in exc_class.__mro__:
        if cls in by_class:
            return by_class[cls]
    return None


def _validation_handler(render: Handler) -> Handler:
    """``render`` (a handler of validation errors) given the error made encodable first."""

    async def answer_validation_error(conn: Any, exc: Exception) -> Response | None:
        if isinstance(exc, RequestValidationError):
            make_encodable(exc)
        return await _call(render, conn, exc)

    setattr(answer_validation_error, _GUARDED, True)
    return answer_validation_error


def _bad_request_handler(render_validation: Handler, other: Handler | None) -> Handler:
    """A handler of 400s: an unparsable body goes to ``render_validation`` as a validation error,
    any other 400 to ``other`` (or further out, when there is none)."""

    async def answer_bad_request(conn: Any, exc: Exception) -> Response | None:
        converted = unparsable_body(exc) if isinstance(exc, HTTPException) else None
        if converted is not None:
            return await _call(render_validation, conn, make_encodable(converted))
        if other is None:
            raise exc  # to the handlers further out, as if this one were not there
        return await _call(other, conn, exc)

    setattr(answer_bad_request, _GUARDED, True)
    return answer_bad_request


def guard_version_handlers(api: ModuleApi) -> None:
    """Wrap a version's own handlers of validation errors so that what they render is encodable
    (they keep precedence over the host's and the app's), and have an unparsable body answered
    by them too. Before :meth:`ModuleApi.wrap`; wrapping twice changes nothing."""
    handlers = api.exception_handlers
    for key, handler in list(handlers.items()):
        if isinstance(key, type) and issubclass(RequestValidationError, key) and not getattr(handler, _GUARDED, False):
            handlers[key] = _validation_handler(handler)
    render = _lookup({k: h for k, h in handlers.items() if not isinstance(k, int)}, RequestValidationError)
    if render is not None and 400 not in handlers:
        other = _lookup({k: h for k, h in handlers.items() if not isinstance(k, int)}, HTTPException)
        handlers[400] = _bad_request_handler(render, other)


class HostHandlers:
    """The handler tables a request to a module version runs with: the app's, with the host's in
    front for validation errors and unparsable bodies. Built from the tables Starlette's
    ``ExceptionMiddleware`` put in the scope, once per app (a user's app in :func:`embed`)."""

    __slots__ = ("outer", "tables")

    def __init__(self) -> None:
        self.outer: dict[Any, Handler] | None = None
        """The app's table by class that :attr:`tables` was built from."""
        self.tables: Handlers = self.build(({}, {}))

    def adopt(self, outer: Handlers) -> Handlers:
        """The tables for an app whose own are ``outer``; remembered for its next requests."""
        self.tables = self.build(outer)
        self.outer = outer[0]
        return self.tables

    @staticmethod
    def build(outer: Handlers) -> Handlers:
        by_class, by_status = outer
        render = _lookup(by_class, RequestValidationError) or request_validation_exception_handler
        other = by_status.get(400) or _lookup(by_class, HTTPException)
        return (
            {**by_class, RequestValidationError: _validation_handler(render)},
            {**by_status, 400: _bad_request_handler(_validation_handler(render), other)},
        )


async def server_error(request: Request, exc: Exception) -> Response:
    """The last line of defence: a 500 with a problem body. Starlette's ``ServerErrorMiddleware``
    raises the error again after this answer, so the server logs it with its traceback."""
    body = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "the server failed to answer this request; the error is in the server's log",
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_MEDIA_TYPE)


def answers_server_errors(handlers: Mapping[Any, Any]) -> bool:
    """Whether an app's handlers already answer unhandled errors (a user's own, in :func:`embed`)."""
    return Exception in handlers or 500 in handlers
