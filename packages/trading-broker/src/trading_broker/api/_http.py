"""HTTP answers to the service's errors, the same in every broker API version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from trading_core import ModuleApi

from .._errors import (
    BrokerError,
    ConcurrentModification,
    DatabaseUnavailable,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderNotFound,
    OrderNotModifiable,
)


class ErrorMessage(BaseModel):
    """An error with a message that says what went wrong and what to do."""

    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, for a person (``detail``) and for a program (``type``)."""

    type: str
    title: str
    status: int
    detail: str


PROBLEM_MEDIA_TYPE = "application/problem+json"
UNAVAILABLE_TYPE = "urn:trading-api:problem:database-unavailable"
SCHEMA_MISSING_TYPE = "urn:trading-api:problem:database-schema-missing"
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The broker's database cannot serve now; nothing was changed. Retry after `Retry-After` seconds",
        # The body is sent as problem+json; "model" makes Problem one shared component (FastAPI also
        # lists it under application/json, which a client parsing JSON reads the same way).
        "model": Problem,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "headers": {"Retry-After": {"description": "Seconds to wait before a retry", "schema": {"type": "integer"}}},
    }
}
"""The answer every route of every version may give while the database is down."""

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage, "description": "No such order"}}
FINAL: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorMessage,
        "description": "The order is filled, canceled or rejected, or another request changed it at the same moment",
    }
}


def placed_order_links(*, get: str, modify: str, cancel: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI links of a placed order's 200 response: the ``id`` it answers is the
    ``order_id`` of the operations on that order (``get``, ``modify``, ``cancel``: their
    operationIds), so clients and stateful test tools can follow it."""
    order_id = {"order_id": "$response.body#/id"}
    links = {
        "GetOrder": (get, "The order just placed"),
        "ModifyOrder": (modify, "Change the order just placed while it is working"),
        "CancelOrder": (cancel, "Cancel the order just placed while it is working"),
    }
    return {
        200: {
            "links": {
                name: {"operationId": operation, "parameters": order_id, "description": description}
                for name, (operation, description) in links.items()
            }
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
    if isinstance(exc, DatabaseUnavailable):
        problem = Problem(
            type=SCHEMA_MISSING_TYPE if exc.schema_missing else UNAVAILABLE_TYPE,
            title="Database unavailable",
            status=503,
            detail=str(exc),
        )
        return JSONResponse(
            problem.model_dump(),
            status_code=503,
            media_type=PROBLEM_MEDIA_TYPE,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, IdempotencyKeyReused):
        error = {"type": "idempotency_key_reused", "loc": ["header", "Idempotency-Key"], "msg": str(exc)}
        return JSONResponse({"detail": [error]}, status_code=422)
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def broker_error(_: Request, exc: BrokerError) -> JSONResponse:
    """The exception handler of the service's errors."""
    return error_response(exc)


async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 for a request its schema refuses, in FastAPI's shape, but always encodable: a
    JSON string may hold a lone surrogate, which pydantic refuses and echoes back in ``input``,
    and which no UTF-8 body can carry (FastAPI's own handler then fails with a 500)."""
    return JSONResponse({"detail": _encodable(jsonable_encoder(exc.errors()))}, status_code=422)


def explaining_missing(
    hints: Mapping[tuple[str, str], str],
) -> Callable[[Request, RequestValidationError], Awaitable[JSONResponse]]:
    """:func:`invalid_request`, with the message of a missing parameter replaced by what to send
    (``hints``: ``("header", "authorization")`` -> ``"send 'Authorization: Bearer <token>' ..."``);
    every other error of the same request is still listed, in the same shape."""

    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            loc = tuple(str(part).lower() for part in error.get("loc", ()))
            hint = hints.get(loc[:2]) if error.get("type") == "missing" and len(loc) == 2 else None
            errors.append({**error, "msg": f"{error.get('msg', 'Field required')}: {hint}"} if hint else error)
        return await invalid_request(request, RequestValidationError(errors))

    return handler


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    return value


def answer_broker_errors(api: ModuleApi, missing: Mapping[tuple[str, str], str] | None = None) -> None:
    """Answer the service's errors raised by ``api``'s routes with :func:`error_response`, and
    requests the schema refuses with :func:`invalid_request`, saying what to send for each
    parameter of ``missing`` that a request leaves out."""
    api.add_exception_handler(BrokerError, broker_error)
    api.add_exception_handler(RequestValidationError, explaining_missing(missing) if missing else invalid_request)
