"""``include_api``: serve a module version in a test app as the host serves it."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Mount

from .._contract import ModuleApi


def include_api(app: FastAPI, api: ModuleApi, prefix: str = "") -> None:
    """Serve ``api`` in ``app`` under ``prefix`` (``"/api/v1/news"``) as the host serves it: its
    routes inside the version's own middleware and exception handlers, which
    ``app.include_router(api, prefix=prefix)`` would leave out.

    The app's OpenAPI document and ``url_for`` see the version's routes as they would after
    ``include_router``. The module's lifespan is the test's to run, as with ``include_router``:
    enter ``module.lifespan()`` in the app's lifespan.
    """
    app.router.routes.append(Mount(prefix, app=api.wrap(api)))
    # Behind the mount, which answers every request under the prefix, the same routes again: only
    # the app's OpenAPI document and url_for read them.
    app.include_router(api, prefix=prefix)
