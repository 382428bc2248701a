"""The docs routes of one document: ``openapi.json``, Swagger UI and ReDoc, with their JavaScript,
CSS and icon served by the app itself and a content security policy that keeps the pages on their
own origin, so the docs work on a network with no internet."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ._openapi import under_root_path

ASSETS = "_assets"
"""The folder below each docs base (``/api/v1/_assets/...``) that serves the UI files."""

SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"

# The pages may load only from their own origin. ReDoc's sidebar credit loads its logo from
# Redocly's CDN (hard-coded in redoc.standalone.js), so the policy, not the HTML alone, is what
# keeps a docs page from calling another host. The inline styles and the inline start-up script are
# FastAPI's page templates; ReDoc runs its search in a worker made from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'"
)


@cache
def assets_folder() -> Path:
    """The folder of packaged UI files.

    Swagger UI's and ReDoc's own distributions are npm packages; on PyPI, ``fastapi-offline``
    (MIT, released with each upstream update) ships both, Swagger UI 5 (which renders OpenAPI 3.1)
    and ReDoc 2, as plain files in its package. Dedicated packages were weighed and set aside:
    ``swagger-ui-bundle`` still ships Swagger UI 4, which cannot render OpenAPI 3.1; no maintained
    package ships ReDoc alone; ``drf-spectacular-sidecar`` ships both but requires Django. We use
    only the files, not fastapi-offline's app class, so they are checked here by name.
    """
    folder = Path(fastapi_offline.__file__).parent / "static"
    missing = [name for name in (SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON) if not (folder / name).is_file()]
    if missing:
        raise RuntimeError(
            f"the docs assets {', '.join(missing)} are missing from {folder}; "
            "reinstall the package that ships them: pip install --force-reinstall 'fastapi-offline>=1.7'"
        )
    return folder


def _local_only(page: Response) -> Response:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def docs_routes(base: str, title: str, document: Callable[[], dict[str, Any]]) -> list[BaseRoute]:
    """``{base}/openapi.json``, ``{base}/docs`` (Swagger UI), ``{base}/redoc`` and the UI files at
    ``{base}/_assets/``, every URL in the pages relative to the request's root path."""
    openapi_path = f"{base}/openapi.json"
    assets_path = f"{base}/{ASSETS}"

    # The document under each root path it was asked from (one, in practice), made again only
    # when the document changes (a version crossing its deprecation date).
    localized: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    async def openapi(request: Request) -> Response:
        root_path = request.scope.get("root_path", "")
        body = document()
        if root_path:
            made = localized.get(root_path)
            if made is None or made[0] is not body:
                made = localized[root_path] = (body, under_root_path(body, root_path))
            body = made[1]
        return JSONResponse(body)

    async def swagger(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return _local_only(
            get_swagger_ui_html(
                openapi_url=root + openapi_path,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{root}{assets_path}/{SWAGGER_JS}",
                swagger_css_url=f"{root}{assets_path}/{SWAGGER_CSS}",
                swagger_favicon_url=f"{root}{assets_path}/{FAVICON}",
                # Swagger UI would otherwise ask validator.swagger.io to check the document.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return _local_only(
            get_redoc_html(
                openapi_url=root + openapi_path,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{root}{assets_path}/{REDOC_JS}",
                redoc_favicon_url=f"{root}{assets_path}/{FAVICON}",
                with_google_fonts=False,
            )
        )

    label = base.strip("/").replace("/", ":")
    return [
        Route(openapi_path, openapi, methods=["GET"], include_in_schema=False, name=f"{label}:openapi"),
        Route(f"{base}/docs", swagger, methods=["GET"], include_in_schema=False, name=f"{label}:docs"),
        Route(f"{base}/redoc", redoc, methods=["GET"], include_in_schema=False, name=f"{label}:redoc"),
        Mount(assets_path, app=StaticFiles(directory=assets_folder()), name=f"{label}:assets"),
    ]
