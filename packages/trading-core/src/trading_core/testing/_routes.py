"""Checks on a module version's router: route kinds and paths, response schemas, its OpenAPI document."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from fastapi.datastructures import DefaultPlaceholder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIWebSocketRoute
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from .._contract import ModuleApi
from .._routes import ServedRoute, served_routes

# Responses that carry no body, so there is nothing to describe.
_NO_BODY = frozenset({204, 205, 304})


def _describe(route: ServedRoute) -> str:
    return f"{'/'.join(sorted(route.methods))} {route.path}"


def _declares_response(route: APIRoute) -> bool:
    if route.response_model is not None or route.status_code in _NO_BODY:
        return True
    for status, response in route.responses.items():
        if str(status).startswith("2") and ("model" in response or "content" in response):
            return True
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    # A non-JSON response class (HTML, CSV, ...) is documented by its media type.
    media_type = getattr(response_class, "media_type", None)
    return media_type is not None and media_type != "application/json"


def check_routes(api: ModuleApi) -> list[str]:
    """Route kinds and paths, a declared response for each HTTP route, and unique operation ids.

    The routes of routers included with ``self.include_router(...)`` are checked as served, with
    their full paths, on every FastAPI release (see :func:`trading_core.served_routes`)."""
    name = type(api).__name__
    problems: list[str] = []
    if not api.routes:
        problems.append(f"{name} declares no route: add endpoints in its __init__ (@self.get('/things') ...)")
    for hook in ("on_startup", "on_shutdown"):
        if getattr(api, hook, None):
            problems.append(
                f"{name} registers {hook} handlers, which the host never runs: open and close resources in "
                "its Module's lifespan instead"
            )
    operations: dict[str, list[str]] = {}
    for served in served_routes(api.routes):
        route, path = served.route, served.path
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            problems.append(
                f"{name} has a {type(route).__name__} at {path!r}: the host serves only APIRoute and "
                "APIWebSocketRoute (declare endpoints with @self.get, @self.post, @self.websocket ..., "
                "or in an APIRouter included with self.include_router)"
            )
            continue
        if path is None or not path.startswith("/"):
            problems.append(f"{name} route {path!r} must start with '/' (paths are relative to the module)")
            continue
        if not isinstance(route, APIRoute) or not served.served.include_in_schema:
            continue
        if not _declares_response(route):
            problems.append(
                f"{name} route {_describe(served)} declares no response schema: give it a return annotation or "
                "response_model=, or responses={200: {'content': ...}} for a non-JSON body"
            )
        operation_id = served.served.operation_id or served.served.unique_id
        # FastAPI gives every method of a route the same id, so each method counts once.
        for method in sorted(served.methods):
            operations.setdefault(operation_id, []).append(f"{method} {path}")
    for operation_id, users in operations.items():
        if len(users) > 1:
            problems.append(
                f"{name} uses operation id {operation_id!r} for {len(users)} operations ({', '.join(users)}): "
                "give each its own operation_id=, because clients generated from the OpenAPI document need them unique"
            )
    return problems


def _location(parts: Iterable[str | int]) -> str:
    """``paths['/orders'].get.responses['200']``: where in the document, readable and unambiguous."""
    where = ""
    for part in parts:
        if isinstance(part, int):
            where += f"[{part}]"
        elif part.isidentifier():
            where += f".{part}" if where else part
        else:
            where += f"[{part!r}]"
    return where or "(root)"


def openapi_document(api: ModuleApi) -> dict[str, Any]:
    """The OpenAPI document of one module version, paths relative to the module, as the host builds it."""
    with warnings.catch_warnings():
        # FastAPI warns about duplicate operation ids; check_routes reports them with a fix instead.
        warnings.simplefilter("ignore", UserWarning)
        return get_openapi(
            title=f"{api.module.name} {api.version}",
            version=api.version,
            description=api.module.description or None,
            routes=api.routes,
        )


def check_openapi(api: ModuleApi) -> list[str]:
    """The module version's OpenAPI document can be generated and is a valid OpenAPI document."""
    name = type(api).__name__
    try:
        document = openapi_document(api)
    except Exception as exc:  # any failure here would break the host's /docs, so report it
        return [f"{name}: generating its OpenAPI document failed: {type(exc).__name__}: {exc}"]
    openapi_version = str(document.get("openapi", ""))
    validator = OpenAPIV30SpecValidator if openapi_version.startswith("3.0") else OpenAPIV31SpecValidator
    problems = []
    try:
        for error in validator(document).iter_errors():
            if error.message.startswith("Operation ID") and error.message.endswith("is not unique"):
                continue  # check_routes already reports it, with the routes involved and the fix
            where = _location(error.absolute_path)
            problems.append(f"{name}: its OpenAPI document is invalid at {where}: {error.message}")
    except Exception as exc:  # the validator trips over some malformed documents instead of reporting them
        problems.append(
            f"{name}: its OpenAPI document is too malformed to validate ({type(exc).__name__}: {exc}); "
            "check openapi_extra= and responses= on its routes"
        )
    return problems
