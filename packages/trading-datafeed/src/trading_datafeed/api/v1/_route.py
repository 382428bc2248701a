"""UDF routes answer every error as ``{"s": "error", "errmsg": ...}`` and apply the CORS policy.

This happens in the route, not in exception handlers or middleware, because the module's router
is served inside an app the module does not own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..._cors import CorsPolicy
from ..._errors import DatafeedError, UnknownGroup, UnknownSymbol


def udf_error(message: str, status_code: int) -> JSONResponse:
    """A UDF error body. TradingView's adapter reads the body, not the status; the status is for
    every other client."""
    return JSONResponse({"s": "error", "errmsg": message}, status_code=status_code)


def _validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        where = error.get("loc", ())
        name = where[-1] if where else "request"
        parts.append(f"{name}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def udf_route_class(cors: CorsPolicy) -> type[APIRoute]:
    """A route class that answers UDF errors and adds the CORS headers of ``cors``."""

    class UdfRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    response = await handler(request)
                except RequestValidationError as exc:
                    response = udf_error(_validation_message(exc.errors()), 422)
                except (UnknownSymbol, UnknownGroup) as exc:
                    response = udf_error(str(exc), 404)
                except DatafeedError as exc:
                    response = udf_error(str(exc), 422)
                response.headers.update(cors.headers(request.headers.get("origin")))
                return response

            return handle

    return UdfRoute
