"""HTTP answers to the service's errors, the same in every broker API version."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from trading_core import ModuleApi

from .._errors import (
    BrokerError,
    ConcurrentModification,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderNotFound,
    OrderNotModifiable,
)


class ErrorMessage(BaseModel):
    """An error with a message that says what went wrong and what to do."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage, "description": "No such order"}}
FINAL: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorMessage,
        "description": "The order is filled, canceled or rejected, or another request changed it at the same moment",
    }
}


def error_response(exc: BrokerError) -> JSONResponse:
    """The response for a service error; 422 bodies have FastAPI's validation-error shape, so a
    client parses one format whether the web layer or the order rules refused the request."""
    if isinstance(exc, OrderNotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)
    if isinstance(exc, OrderNotModifiable | ConcurrentModification):
        return JSONResponse({"detail": str(exc)}, status_code=409)
    if isinstance(exc, InvalidOrder):
        errors = [
            {"type": v.rule, "loc": ["body", v.field], "msg": v.message, "input": v.value} for v in exc.violations
        ]
        return JSONResponse({"detail": errors}, status_code=422)
    if isinstance(exc, IdempotencyKeyReused):
        error = {"type": "idempotency_key_reused", "loc": ["header", "Idempotency-Key"], "msg": str(exc)}
        return JSONResponse({"detail": [error]}, status_code=422)
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def broker_error(_: Request, exc: BrokerError) -> JSONResponse:
    """The exception handler of the service's errors."""
    return error_response(exc)


def answer_broker_errors(api: ModuleApi) -> None:
    """Answer the service's errors raised by ``api``'s routes with :func:`error_response`."""
    api.add_exception_handler(BrokerError, broker_error)
