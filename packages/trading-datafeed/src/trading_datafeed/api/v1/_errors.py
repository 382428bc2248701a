"""UDF error answers: every error of a v1 request is ``{"s": "error", "errmsg": ...}``, the
request's validation errors included. Registered as the version's exception handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from trading_core import ModuleApi

from ..._errors import Busy, DatafeedError, TooManyRequests, UnknownGroup, UnknownSymbol


def udf_error(message: str, status_code: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """A UDF error body. TradingView's adapter reads the body, not the status; the status is for
    every other client."""
    return JSONResponse({"s": "error", "errmsg": message}, status_code=status_code, headers=headers)


def _validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        where = error.get("loc", ())
        name = where[-1] if where else "request"
        parts.append(f"{name}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    return udf_error(_validation_message(exc.errors()), 422)


async def not_found(_: Request, exc: UnknownSymbol | UnknownGroup) -> JSONResponse:
    return udf_error(str(exc), 404)


async def unprocessable(_: Request, exc: DatafeedError) -> JSONResponse:
    return udf_error(str(exc), 422)


async def too_many(_: Request, exc: TooManyRequests) -> JSONResponse:
    return udf_error(str(exc), 429, {"Retry-After": "1"})


async def busy(_: Request, exc: Busy) -> JSONResponse:
    return udf_error(str(exc), 503, {"Retry-After": "1"})


def answer_udf_errors(api: ModuleApi) -> None:
    """Answer ``api``'s errors as UDF errors: 404 for an unknown symbol or group, 429 for a client
    with too many requests at once, 503 while busy, 422 for the rest."""
    api.add_exception_handler(RequestValidationError, invalid_request)
    api.add_exception_handler(UnknownSymbol, not_found)
    api.add_exception_handler(UnknownGroup, not_found)
    api.add_exception_handler(TooManyRequests, too_many)
    api.add_exception_handler(Busy, busy)
    api.add_exception_handler(DatafeedError, unprocessable)
