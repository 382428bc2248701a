"""The service's errors as HTTP answers, the same in every version: 404 for an unknown alert, 409
when the service keeps as many alerts as it may."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request

from trading_core import ModuleApi

from .._models import TooManyAlerts, UnknownAlert


class Problem(BaseModel):
    """The body of an error."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": Problem, "description": "No alert has this id"}}
FULL: dict[int | str, dict[str, object]] = {409: {"model": Problem, "description": "As many alerts as kept"}}


async def _unknown(request: Request, exc: UnknownAlert) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _full(request: Request, exc: TooManyAlerts) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


def answer_errors(api: ModuleApi) -> None:
    """Answer the service's errors raised by ``api``'s routes (and only by them)."""
    api.add_exception_handler(UnknownAlert, _unknown)
    api.add_exception_handler(TooManyAlerts, _full)
